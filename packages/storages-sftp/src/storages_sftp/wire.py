"""SFTP requests sent and answered on paramiko's channel, without its ``Message`` objects.

The one-request operations (stat, remove, close, and a download's open, read and
fstat) cost what paramiko's ``SFTPClient._request`` does around the wire: a
``Message`` built for the request and one for the answer, the packet copied twice
into bytes, and the answer read in two channel reads (length, then body). Here the
request is packed in one ``struct`` call (its CHANNEL_DATA header too, when the
window takes it whole) and the answer read in one channel read when it is the only
one outstanding: about 10 us less client CPU per request (a stat: 67 -> 57 us;
benchmarks/README.md). Everything below is still paramiko's (the channel's window
and lock, the transport's key-exchange hold, SSH encryption, integrity, keepalive),
and the request ids and the table of answers awaited are paramiko's own
(``request_number``, ``_expecting``, under its lock), so its own calls on the same
session (``open``, ``listdir_attr``, a file's reads) interleave with these: an
answer to one of them read here is handed over as paramiko's reader would. A request
sent while nothing else is outstanding (the common case) is not entered in that table:
its answer is the next packet, read before the request returns.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko.common import MSG_CHANNEL_DATA
from paramiko.sftp import CMD_STATUS, SFTP_NO_SUCH_FILE, SFTP_OK

if TYPE_CHECKING:
    from .client import Connection

__all__ = ["call", "call_unless_missing", "receive", "request", "send", "string"]

_UINT32 = struct.Struct(">I")
#: An SFTP packet's length, type and request id (draft-ietf-secsh-filexfer-02, 3).
_HEADER = struct.Struct(">IBI")
#: What paramiko's reader refuses as a length (a packet above 16 MiB is garbage).
_TOO_LONG = 0xFFFFFF
#: Bytes asked of the channel when the answer awaited is the only one outstanding.
_READ_SIZE = 65536
_UNKNOWN = object()
#: A STATUS answer's code when the request succeeded.
_STATUS_OK = _UINT32.pack(SFTP_OK)
#: An SSH CHANNEL_DATA message's type, recipient channel and data length (RFC 4254, 5.2).
_CHANNEL_DATA = struct.Struct(">BII")


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
    _write(conn, kind, num, payload)
    return num


def _write(conn: Connection, kind: int, num: int, payload: bytes) -> None:
    """Send request ``num`` on the connection's channel, as one CHANNEL_DATA message if
    the peer's window takes it whole.

    What ``Channel.send`` does when nothing has to wait (``_send`` and
    ``_wait_for_send_window``, under the channel's lock), without the ``Message`` it
    builds the header in: the window is charged, and the message goes out as the
    transport's ``_send_user_message`` sends it (held during a key exchange, then
    encrypted, numbered and written by ``_send_message``). When the channel is closed
    or the window is short, ``Channel.send`` sends it and waits, as it always did.
    """
    packet = _HEADER.pack(len(payload) + 5, kind, num) + payload
    channel: Any = conn.channel
    size = len(packet)
    with channel.lock:
        whole = not (
            channel.closed
            or channel.eof_sent
            or size > channel.out_window_size
            or size > channel.out_max_packet_size - 64
        )
        if whole:
            channel.out_window_size -= size
    if whole:
        message = _Payload(
            _CHANNEL_DATA.pack(MSG_CHANNEL_DATA, channel.remote_chanid, size) + packet
        )
        transport = channel.transport
        with transport.clear_to_send_lock:
            # ``_send_user_message``'s own test, under its lock, without its wait on the
            # event first (three calls): no key exchange under way, the transport up.
            if transport.active and transport.clear_to_send.is_set():
                transport._send_message(message)
                return
        transport._send_user_message(message)  # waits for the key exchange to end
        return
    while packet:  # paramiko's way: waits for the window, sends what fits
        sent = channel.send(packet)
        if sent <= 0:
            raise paramiko.SSHException("Server connection dropped: the channel is closed")
        packet = packet[sent:]


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
    return _answer(sftp, data, missing_ok)


def _answer(sftp: Any, data: bytes, missing_ok: bool) -> tuple[int, bytes] | None:
    """An answer's type and what follows its id; an error status raised (see ``_receive``)."""
    kind = data[0]
    if kind == CMD_STATUS:
        (status,) = _UINT32.unpack_from(data, 5)
        if status == SFTP_NO_SUCH_FILE and missing_ok:
            return None
        if status != SFTP_OK:
            sftp._convert_status(paramiko.Message(data[5:]))  # raises paramiko's error
    return kind, data[5:]


def call(conn: Connection, kind: int, payload: bytes) -> tuple[int, bytes]:
    """Send one request and wait for its answer (``send``, then ``receive``)."""
    answer = request(conn, kind, payload, missing_ok=False)
    assert answer is not None
    return answer


def call_unless_missing(conn: Connection, kind: int, payload: bytes) -> tuple[int, bytes] | None:
    """``call``, but None when the server answers "no such file"."""
    return request(conn, kind, payload, missing_ok=True)


def request(
    conn: Connection, kind: int, payload: bytes, *, missing_ok: bool
) -> tuple[int, bytes] | None:
    """One request and its answer (``call``, or with ``missing_ok`` ``call_unless_missing``).

    When nothing else is outstanding on the session (the usual case: the connection
    is this thread's, and nobody else sends on it), the request is not entered in
    paramiko's table of answers awaited (a ``WeakValueDictionary``: five Python calls
    to enter and take out) and its answer is the next packet, read in one channel read.
    Otherwise it is entered there and read as ``receive`` reads, among the others.
    """
    sftp: Any = conn.sftp
    expecting = sftp._expecting
    with sftp._lock:
        num: int = sftp.request_number
        sftp.request_number = num + 1
        # ``data``: the dictionary behind it; an entry whose file is gone may linger
        # there, which only sends this request the general way.
        alone = not expecting.data
        if not alone:
            expecting[num] = type(None)
    _write(conn, kind, num, payload)
    if not alone:
        return _receive(conn, num, missing_ok=missing_ok)
    channel: Any = conn.channel
    try:
        data = _read_alone(channel)
    except EOFError as exc:
        raise paramiko.SSHException(f"Server connection dropped: {exc}") from exc
    if _UINT32.unpack_from(data, 1)[0] != num:  # an answer to nothing asked: out of step
        channel.close()
        raise paramiko.SSHException("Server connection dropped: an answer came unasked")
    if data[0] != CMD_STATUS or data[5:9] == _STATUS_OK:  # nothing to check (a delete's OK)
        return data[0], data[5:]
    return _answer(sftp, data, missing_ok)


class _Payload(bytes):
    """An SSH message already in bytes, for paramiko's packetizer (which asks ``asbytes``)."""

    def asbytes(self) -> bytes:
        return self


def _read_alone(channel: Any) -> bytes:
    """One packet, read in one channel read when it has come whole (the usual case)."""
    data: bytes = channel.recv(_READ_SIZE)
    while len(data) < 4:
        data += _more(channel, _READ_SIZE)
    (size,) = _UINT32.unpack_from(data)  # ``_length``, one call fewer
    if size > _TOO_LONG or size < 5:
        raise paramiko.SFTPError("Garbage packet received")
    size += 4
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
