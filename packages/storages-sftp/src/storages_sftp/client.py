"""SSH connections: host-key checking, login, and the pool threads borrow them from.

paramiko's ``SFTPClient`` is not safe for concurrent use (two threads reading one
channel steal each other's replies), so a storage never shares one: each operation
borrows a whole connection from a :class:`~storages_base.remote.ConnectionPool` and
gives it back, and an open file keeps its connection until it is closed or read to
the end. Threads therefore run in parallel, each on its own connection.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import stat as stat_mode
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import paramiko
from django.core.exceptions import ImproperlyConfigured
from paramiko.sftp import (
    CMD_ATTRS,
    CMD_CLOSE,
    CMD_HANDLE,
    CMD_NAME,
    CMD_OPENDIR,
    CMD_READDIR,
    CMD_REMOVE,
    CMD_STAT,
)

from storages_base.errors import StorageError, TransientError
from storages_base.remote import ConnectionPool, Sessions

from . import wire
from .errors import BACKEND, HostKeyError, error_for
from .options import HOST_KEY_POLICIES

__all__ = [
    "Attributes",
    "Connection",
    "ConnectionSettings",
    "SFTPPool",
    "attributes",
    "exists",
    "is_dir",
    "list_folder",
    "remove",
    "stat",
]

#: Seconds before connecting, authenticating or a silent server gives up (#1344 hangs).
DEFAULT_TIMEOUT = 30.0
#: Seconds between keepalive messages on an idle connection: firewalls and NAT drop idle
#: TCP connections silently, and a pooled connection found dead only when used costs a
#: whole timeout; the keepalive keeps it open, or shows it broken while it waits.
KEEPALIVE_INTERVAL = 30
#: Runs of an operation when the connection fails (the first included).
ATTEMPTS = 3
#: Ciphers asked for first, before the rest of paramiko's order (see ``_transport``).
AEAD_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


@dataclass
class ConnectionSettings:
    """What a connection needs, resolved from the storage's options."""

    host: str
    params: dict[str, Any] = field(default_factory=dict, repr=False)  # secret
    known_host_file: str | None = None
    host_key_policy: Any = "reject"
    interactive: bool = False


class Connection:
    """One SSH connection and its SFTP session, used by one thread at a time."""

    def __init__(self, ssh: paramiko.SSHClient, sftp: paramiko.SFTPClient) -> None:
        self.ssh = ssh
        self.sftp = sftp
        # Looked up once: ``alive`` is asked before every operation.
        self._transport = ssh.get_transport()
        self.channel = sftp.get_channel()
        #: Whether the server has the posix-rename@openssh.com extension (None: untried).
        self.posix_rename: bool | None = None
        #: The storage root as the server resolves it, and the folders checked under it.
        self.root_realpath: str | None = None
        self.checked_folders: set[str] = set()
        #: Handles of files read to the end, to close when this connection is next lent
        #: (``SFTPPool.close_handle``).
        self.pending_closes: list[bytes] = []

    @property
    def alive(self) -> bool:
        """Whether the connection still looks usable (no network round trip)."""
        transport, channel = self._transport, self.channel
        return bool(
            transport is not None
            and transport.is_active()
            and channel is not None
            and not channel.closed
        )

    def check(self) -> None:
        """Run before the connection is lent: refuse a dead one, send the closes held back."""
        transport: Any = self._transport  # ``alive``, without its calls
        channel = self.channel
        if transport is None or not transport.active or channel is None or channel.closed:
            raise TransientError("the SSH connection was closed", backend=BACKEND)
        while self.pending_closes:
            # Not waited for: the answer comes ahead of the borrower's first one, which
            # the reader (wire.receive or paramiko's) skips it for (nobody waits for it).
            wire.send(self, CMD_CLOSE, wire.string(self.pending_closes.pop()))

    def close(self) -> None:
        try:
            self.sftp.close()
        finally:
            self.ssh.close()


class Attributes(NamedTuple):
    """What a stat says of a path (any field the server leaves out is None)."""

    mode: int | None
    size: int | None
    atime: int | None
    mtime: int | None


_UINT32, _UINT64, _TIMES = struct.Struct(">I"), struct.Struct(">Q"), struct.Struct(">II")
#: The flags of an ATTRS (paramiko's ``SFTPAttributes.FLAG_*``).
_SIZE, _UIDGID, _PERMISSIONS, _AMTIME, _EXTENDED = 1, 2, 4, 8, 0x80000000


def stat(conn: Connection, path: str) -> Attributes | None:
    """The server's stat of ``path``; None when it does not exist.

    The STAT request ``SFTPClient.stat`` sends, through :mod:`.wire`, without what
    ``stat`` adds around it: a debug log line formatted per call and an
    ``SFTPAttributes`` with every field and extension parsed; the four fields a
    storage reads are unpacked here.
    """
    answer = wire.request(conn, CMD_STAT, wire.string(path), missing_ok=True)
    if answer is None:
        return None
    if answer[0] != CMD_ATTRS:  # ``attributes``, one call fewer
        raise paramiko.SFTPError("Expected attributes")
    return _attributes_at(answer[1], 0)[0]


def exists(conn: Connection, path: str) -> bool:
    """Whether ``path`` exists: ``stat`` without reading the attributes."""
    answer = wire.request(conn, CMD_STAT, wire.string(path), missing_ok=True)
    if answer is None:
        return False
    if answer[0] != CMD_ATTRS:
        raise paramiko.SFTPError("Expected attributes")
    return True


def attributes(kind: int, body: bytes) -> Attributes:
    """The attributes of an ATTRS answer (see ``_attributes_at``)."""
    if kind != CMD_ATTRS:
        raise paramiko.SFTPError("Expected attributes")
    return _attributes_at(body, 0)[0]


def _attributes_at(data: bytes, pos: int) -> tuple[Attributes, int]:
    """The ATTRS at ``pos`` and the position after it (SFTP version 3,
    draft-ietf-secsh-filexfer-02 section 5): flags, then each field its flag announces,
    in this order; the extensions (name and value strings) are skipped."""
    (flags,) = _UINT32.unpack_from(data, pos)
    pos += 4
    size = mode = atime = mtime = None
    if flags & _SIZE:
        (size,) = _UINT64.unpack_from(data, pos)
        pos += 8
    if flags & _UIDGID:
        pos += 8
    if flags & _PERMISSIONS:
        (mode,) = _UINT32.unpack_from(data, pos)
        pos += 4
    if flags & _AMTIME:
        atime, mtime = _TIMES.unpack_from(data, pos)
        pos += 8
    if flags & _EXTENDED:
        (count,) = _UINT32.unpack_from(data, pos)
        pos += 4
        for _ in range(2 * count):
            pos += 4 + _UINT32.unpack_from(data, pos)[0]
    return Attributes(mode, size, atime, mtime), pos


def list_folder(conn: Connection, path: str) -> list[tuple[str, bool]]:
    """The names in folder ``path`` and whether each is a folder; [] if it is missing.

    ``SFTPClient.listdir_attr``'s requests (OPENDIR, READDIR until the end, CLOSE),
    through :mod:`.wire`: each entry's name is decoded and its mode read, where
    paramiko decodes the ``ls -l`` line too and builds an ``SFTPAttributes`` with every
    field (about 2 us an entry).
    """
    answer = wire.call_unless_missing(conn, CMD_OPENDIR, wire.string(path))
    if answer is None:
        return []
    kind, body = answer
    if kind != CMD_HANDLE:
        raise paramiko.SFTPError("Expected handle")
    handle = wire.string(body[4 : 4 + _UINT32.unpack_from(body)[0]])
    entries = []
    while True:
        try:
            kind, body = wire.call(conn, CMD_READDIR, handle)
        except EOFError:  # the end of the listing
            break
        if kind != CMD_NAME:
            raise paramiko.SFTPError("Expected name response")
        (count,) = _UINT32.unpack_from(body)
        pos = 4
        for _ in range(count):
            (length,) = _UINT32.unpack_from(body, pos)
            name = body[pos + 4 : pos + 4 + length].decode()  # strict UTF-8, as paramiko
            pos += 4 + length
            pos += 4 + _UINT32.unpack_from(body, pos)[0]  # the ls -l line
            attrs, pos = _attributes_at(body, pos)
            if name != "." and name != "..":
                entries.append((name, stat_mode.S_ISDIR(attrs.mode or 0)))
    wire.call(conn, CMD_CLOSE, handle)
    return entries


def remove(conn: Connection, path: str) -> None:
    """Delete a file, or an empty folder as FileSystemStorage does; a missing one is fine."""
    try:
        wire.request(conn, CMD_REMOVE, wire.string(path), missing_ok=True)  # SFTPClient.remove's
    except OSError:
        # remove() refuses folders; an empty one is deleted as FileSystemStorage does.
        if not conn.alive or not is_dir(conn, path):
            raise
        conn.sftp.rmdir(path)


def is_dir(conn: Connection, path: str) -> bool:
    attrs = stat(conn, path)
    return attrs is not None and stat_mode.S_ISDIR(attrs.mode or 0)


class _RejectUnknown(paramiko.MissingHostKeyPolicy):
    """Refuse an unknown host key with an error that says how to trust the host."""

    def __init__(self, known_host_file: str | None) -> None:
        self.known_host_file = known_host_file

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        where = self.known_host_file or "~/.ssh/known_hosts"
        host, _, port = hostname.strip("[").partition("]:")
        scan = f"ssh-keyscan {'-p ' + port + ' ' if port else ''}{host}"
        raise HostKeyError(
            f"The SFTP server {hostname} presented an unknown {key.get_name()} host key "
            f"({key.fingerprint}); the storage refuses to connect. To trust this host, add "
            f"its key to {where} (e.g. `{scan} >> {where}`, after checking the fingerprint "
            f"with the server's administrator) and point SFTP_KNOWN_HOST_FILE at that "
            f"file, or accept unknown keys explicitly with "
            f"SFTP_STORAGE_HOST_KEY_POLICY = 'auto_add' (trust on first use).",
            operation="connect",
            backend=BACKEND,
        )


def host_key_policy(policy: Any, known_host_file: str | None) -> paramiko.MissingHostKeyPolicy:
    """Return the paramiko policy for the ``host_key_policy`` option."""
    if isinstance(policy, paramiko.MissingHostKeyPolicy):
        return policy
    if isinstance(policy, type) and issubclass(policy, paramiko.MissingHostKeyPolicy):
        return policy()
    if policy in (None, "reject"):
        return _RejectUnknown(known_host_file)
    if policy == "auto_add":
        return paramiko.AutoAddPolicy()
    if policy == "warning":
        return paramiko.WarningPolicy()
    raise ImproperlyConfigured(
        f"SFTPStorage: host_key_policy {policy!r} is not one of "
        f"{', '.join(HOST_KEY_POLICIES)} or a paramiko MissingHostKeyPolicy."
    )


def connect(settings: ConnectionSettings) -> Connection:
    """Open an SSH connection and an SFTP session; refuse unknown host keys by default."""
    ssh = paramiko.SSHClient()
    try:
        _load_host_keys(ssh, settings.known_host_file)
        ssh.set_missing_host_key_policy(
            host_key_policy(settings.host_key_policy, settings.known_host_file)
        )
        _login(ssh, settings)
        transport = ssh.get_transport()
        if transport is not None:
            transport.set_keepalive(KEEPALIVE_INTERVAL)
            _no_delay(transport.sock)
        sftp = _open_sftp(ssh, _timeout(settings))
        channel = sftp.get_channel()
        if channel is not None:  # a server that stops answering must not hang a worker
            channel.settimeout(_timeout(settings))
    except paramiko.BadHostKeyException as exc:
        ssh.close()
        raise HostKeyError(
            f"The SFTP server {settings.host} presented a host key that differs from the "
            f"one in the known_hosts file ({exc.key.fingerprint}, expected "
            f"{exc.expected_key.fingerprint}): the key changed, or someone is intercepting "
            f"the connection. The storage refuses to connect.",
            operation="connect",
            backend=BACKEND,
        ) from exc
    except BaseException:
        ssh.close()
        raise
    return Connection(ssh, sftp)


def _timeout(settings: ConnectionSettings) -> float:
    """The seconds any wait for the server may last (the ``timeout`` of ``params``)."""
    return float(settings.params.get("timeout") or DEFAULT_TIMEOUT)


def _open_sftp(ssh: paramiko.SSHClient, timeout: float) -> paramiko.SFTPClient:
    """``ssh.open_sftp()``, given up after ``timeout`` seconds.

    paramiko waits for the answer to the subsystem request, and for the server's SFTP
    version, without any limit: a server that stops there held the caller forever.
    Closing the transport ends those waits; the error then says what happened.
    """
    transport = ssh.get_transport()
    if transport is None:
        return ssh.open_sftp()
    watchdog = threading.Timer(timeout, transport.close)
    watchdog.daemon = True
    watchdog.start()
    try:
        return ssh.open_sftp()
    except (OSError, EOFError, paramiko.SSHException) as exc:
        if watchdog.finished.is_set():
            raise TimeoutError(
                f"the SFTP server did not start an SFTP session within {timeout:g} s"
            ) from exc
        raise
    finally:
        watchdog.cancel()


def _no_delay(sock: Any) -> None:
    """Send each SSH packet at once (``TCP_NODELAY``), as OpenSSH's client does.

    A download sends its fstat right behind its first read; with Nagle's algorithm
    the second small packet waited for the first one's ACK, a round trip the
    pipelining was meant to save. A proxy command's pipe is not a socket: left alone.
    """
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _load_host_keys(ssh: paramiko.SSHClient, known_host_file: str | None) -> None:
    if known_host_file:
        # A named file is also where auto_add records the keys it accepts.
        if not os.path.exists(known_host_file):
            raise ImproperlyConfigured(
                f"SFTPStorage: SFTP_KNOWN_HOST_FILE {known_host_file!r} does not exist."
            )
        ssh.load_host_keys(known_host_file)
    else:
        ssh.load_system_host_keys()  # ~/.ssh/known_hosts, read-only


def _login(ssh: paramiko.SSHClient, settings: ConnectionSettings) -> None:
    params = dict(settings.params)
    # One timeout for every wait of a login (paramiko's own defaults are 15 s, 30 s and an
    # hour for the session channel), unless params set them one by one.
    timeout = _timeout(settings)
    params.setdefault("timeout", timeout)
    params.setdefault("banner_timeout", timeout)
    params.setdefault("auth_timeout", timeout)
    params.setdefault("channel_timeout", timeout)
    params.setdefault("transport_factory", _transport)
    try:
        try:
            ssh.connect(settings.host, **params)
        except paramiko.SSHException as exc:
            raise _login_refused(ssh, params, exc) from exc
    except paramiko.AuthenticationException:
        if not settings.interactive or "password" in params:
            raise
        # Ask once and remember it: later connections of the pool reuse the answer.
        settings.params.setdefault("username", params.get("username") or getpass.getuser())
        settings.params["password"] = getpass.getpass(
            f"Password for {settings.params['username']}@{settings.host}: "
        )
        _login(ssh, settings)


def _login_refused(
    ssh: paramiko.SSHClient, params: dict[str, Any], exc: paramiko.SSHException
) -> paramiko.SSHException:
    """A key file that cannot be loaded is the client's configuration, not the network.

    paramiko reports a key file it cannot decrypt (a wrong ``passphrase``) as a plain
    ``SSHException("Invalid key")`` once no other way in worked: retried like a dropped
    connection, it failed three times as "SFTP connection failed: Invalid key". After a
    failed login the key files are loaded once more here; one that does not load makes
    the error an authentication failure, refused at once, naming the file.
    """
    if type(exc) is not paramiko.SSHException:
        return exc  # host key, channel and authentication errors say what they are
    files = params.get("key_filename") or ()
    for path in [files] if isinstance(files, str) else files:
        try:
            # paramiko annotates a str; cryptography, which it hands it to, needs bytes.
            paramiko.PKey.from_path(path, _passphrase(params))  # type: ignore[arg-type]
        except (paramiko.SSHException, ValueError) as problem:
            return paramiko.AuthenticationException(
                f"the key file {path!r} cannot be loaded ({problem}): is params['passphrase'] "
                "the key's?"
            )
        except OSError:
            continue  # unreadable: paramiko said so already
    return exc


def _passphrase(params: dict[str, Any]) -> bytes | None:
    secret = params.get("passphrase") or params.get("password")
    return secret.encode() if isinstance(secret, str) else secret


def _transport(sock: Any, **kwargs: Any) -> paramiko.Transport:
    """paramiko's transport, asking for AES-GCM first (``AEAD_CIPHERS``).

    paramiko prefers aes-ctr with hmac-sha2-256, whose MAC is a Python ``hmac`` call on
    every packet both ways; AES-GCM (an AEAD cipher every OpenSSH server offers, on the
    CPU's AES instructions) authenticates a packet in the call that encrypts it: about
    6 us less client CPU per request (a stat: 64 -> 58 us). A server without it gets
    paramiko's own order, and ``disabled_algorithms`` still applies.
    """
    transport = paramiko.Transport(sock, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    first = tuple(cipher for cipher in AEAD_CIPHERS if cipher in offered)
    options.ciphers = first + tuple(cipher for cipher in offered if cipher not in first)
    return transport


class SFTPPool(Sessions[Connection]):
    """Connections of one storage: borrowed per operation, rebuilt after a failure."""

    def __init__(self, settings: ConnectionSettings, max_idle: int = 4) -> None:
        self.settings = settings
        super().__init__(
            ConnectionPool(
                lambda: connect(settings),
                Connection.close,
                max_idle=max_idle,
                check=Connection.check,
                check_after=0.0,  # the check costs no round trip: always run it
            ),
            translate=as_storage_error,
            # Any failure on a dead connection is transient (see as_storage_error).
            broken=lambda exc, error: isinstance(error, TransientError),
            remove=remove,
            attempts=ATTEMPTS,
        )

    def close_handle(self, conn: Connection, handle: bytes) -> None:
        """Close the handle of a file read to the end (``SFTPReader``), on its connection.

        If ``conn`` is idle, it is taken from the pool to send the request, whose answer
        is not waited for (as paramiko's finaliser closes a file): closing a file opened
        for reading can only succeed or leave the handle to the end of the connection,
        and the server answers requests in order, so the next one on ``conn`` finds the
        handle closed; its reader skips the answer. If another thread holds ``conn``,
        none of this thread's packets may cut into that thread's: the next borrower
        sends the close (``Connection.check``). An error is ignored, as it was when a
        reader closed its file: the server drops a connection's handles with it.
        """
        if not self.pool.claim(conn):
            conn.pending_closes.append(handle)
            return
        try:
            wire.send(conn, CMD_CLOSE, wire.string(handle))
        except Exception:
            if not conn.alive:
                self.pool.discard(conn)
                return
        self.pool.release(conn)


def as_storage_error(
    exc: BaseException, conn: Connection | None, name: str | None, operation: str
) -> BaseException:
    """Return the common error for ``exc``; any failure on a dead connection is transient."""
    if isinstance(exc, StorageError) or not isinstance(
        exc, (OSError, EOFError, paramiko.SSHException)
    ):
        return exc
    if conn is not None and not conn.alive:
        return TransientError(
            f"SFTP connection lost: {exc or type(exc).__name__}",
            name=name,
            operation=operation,
            backend=BACKEND,
        )
    return error_for(exc, name, operation)
