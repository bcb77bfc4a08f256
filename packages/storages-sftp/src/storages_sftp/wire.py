"""SFTP requests sent and answered on paramiko's channel, without its ``Message`` objects.

The one-request operations (stat, remove, close, and a download's open, read and
fstat) cost what paramiko's ``SFTPClient._request`` does around the wire: a
``Message`` built for the request and one for the answer, the packet copied twice
into bytes, and the answer read in two channel reads (length, then body). Here the
request is packed in one ``struct`` call and the answer read in one channel read
when it is the only one outstanding: about 6 us less client CPU per request
(a stat: 67 -> 60 us; benchmarks/README.md). Everything below the SFTP packet is
still paramiko's (SSH encryption, integrity, flow control, keepalive, rekeying),
and the request ids and the table of answers awaited are paramiko's own
(``request_number``, ``_expecting``, under its lock), so its own calls on the same
session (``open``, ``listdir_attr``, a file's reads) interleave with these: an
answer to one of them read here is handed over as paramiko's reader would.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko.sftp import CMD_STATUS, SFTP_NO_SUCH_FILE, SFTP_OK

if TYPE_CHECKING:
    from .client import Connection

__all__ = ["call", "call_unless_missing", "receive", "send", "string"]

_UINT32 = struct.Struct(">I")
#: An SFTP packet's length, type and request id (draft-ietf-secsh-filexfer-02, 3).
_HEADER = struct.Struct(">IBI")
#: What paramiko's reader refuses as a length (a packet above 16 MiB is garbage).
_TOO_LONG = 0xFFFFFF
#: Bytes asked of the channel when the answer awaited is the only one outstanding.
_READ_SIZE = 65536
_UNKNOWN = object()


def string(value: str | bytes) -> bytes:
    """An SFTP string: its length, then its bytes (a path as UTF-8, as paramiko sends it)."""
    data = value.encode() if isinstance(value, str) else value
    return _UINT32.pack(len(data)) + data


def send(conn: Connection, kind: int, payload: bytes) -> int:
    """Send one request (``payload`` is what follows its id); return its id."""
    sftp: Any = conn.sftp
    with sftp._lock:  # paramiko's: its own requests take ids from the same counter
        num: int = sftp.request_number
        sftp.request_number = num + 1
        sftp._expecting[num] = type(None)
    packet = _HEADER.pack(len(payload) + 5, kind, num) + payload
    channel: Any = conn.channel
    while packet:
        sent = channel.send(packet)
        if sent <= 0:
            raise paramiko.SSHException("Server connection dropped: the channel is closed")
        packet = packet[sent:]
    return num


def receive(conn: Connection, num: int) -> tuple[int, bytes]:
    """The answer to request ``num`` (``_receive``); an error status is raised."""
    answer = _receive(conn, num, missing_ok=False)
    assert answer is not None
    return answer


def _receive(conn: Connection, num: int, *, missing_ok: bool) -> tuple[int, bytes] | None:
    """The answer to request ``num``: its type and what follows its id.

    An error status is raised as paramiko raises it (``FileNotFoundError``,
    ``PermissionError``, ``OSError``, ``EOFError`` at the end of a file); with
    ``missing_ok``, "no such file" is None instead (no exception built and caught
    for an answer the caller expects). Answers to other requests that come first
    are handed to their file, or dropped if nothing awaits them (a close sent
    without waiting), as ``SFTPClient._read_response`` does.
    """
    sftp: Any = conn.sftp
    channel: Any = conn.channel
    expecting = sftp._expecting
    while True:
        try:
            # Alone: nothing else is outstanding, so what arrives is this answer only.
            data = _read_alone(channel) if len(expecting) == 1 else _read_next(channel)
        except EOFError as exc:
            raise paramiko.SSHException(f"Server connection dropped: {exc}") from exc
        kind, answer = data[0], _UINT32.unpack_from(data, 1)[0]
        with sftp._lock:
            owner = expecting.pop(answer, _UNKNOWN)
        if answer == num:
            break
        if owner is not _UNKNOWN and owner is not type(None):
            owner._async_response(kind, paramiko.Message(data[5:]), answer)
    if kind == CMD_STATUS:
        (status,) = _UINT32.unpack_from(data, 5)
        if status == SFTP_NO_SUCH_FILE and missing_ok:
            return None
        if status != SFTP_OK:
            sftp._convert_status(paramiko.Message(data[5:]))  # raises paramiko's error
    return kind, data[5:]


def call(conn: Connection, kind: int, payload: bytes) -> tuple[int, bytes]:
    """Send one request and wait for its answer (``send``, then ``receive``)."""
    return receive(conn, send(conn, kind, payload))


def call_unless_missing(conn: Connection, kind: int, payload: bytes) -> tuple[int, bytes] | None:
    """``call``, but None when the server answers "no such file"."""
    return _receive(conn, send(conn, kind, payload), missing_ok=True)


def _read_alone(channel: Any) -> bytes:
    """One packet, read in one channel read when it has come whole (the usual case)."""
    data: bytes = channel.recv(_READ_SIZE)
    while len(data) < 4:
        data += _more(channel, _READ_SIZE)
    size = _length(data) + 4
    while len(data) < size:
        data += _more(channel, size - len(data))
    if len(data) > size:
        # Only a request sent from another thread meanwhile could be answered too:
        # the session is out of step, so it is closed (the operation is retried).
        channel.close()
        raise paramiko.SSHException("Server connection dropped: an answer came unasked")
    return data[4:]


def _read_next(channel: Any) -> bytes:
    """One packet, read exactly: the channel may hold the answers that follow it."""
    size = _length(_read_exact(channel, 4))
    return _read_exact(channel, size)


def _length(data: bytes) -> int:
    (size,) = _UINT32.unpack_from(data)
    if size > _TOO_LONG or size < 5:
        raise paramiko.SFTPError("Garbage packet received")
    return int(size)


def _read_exact(channel: Any, count: int) -> bytes:
    data = channel.recv(count)
    while len(data) < count:
        data += _more(channel, count - len(data))
    return bytes(data)


def _more(channel: Any, count: int) -> bytes:
    data: bytes = channel.recv(count)
    if not data:
        raise EOFError("the channel closed")
    return data
