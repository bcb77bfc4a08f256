"""Streaming reads and writes of a file on the server.

:class:`SFTPReader` is what the storage's ``_read`` hook returns: paramiko's
``SFTPFile`` positioned at the requested offset, with read requests kept a sliding
window ahead of the reader (paramiko's prefetch machinery). The window bounds
memory: paramiko's own ``prefetch()`` asks for the whole file, buffers whatever the
consumer has not read yet, and keeps fetching after an early close. The reader holds
a connection of the pool until it is closed or read to the end, and reopens the file
at its position on a new connection when the old one drops.

:class:`SFTPWriter` is what ``open(name, "w")`` writes to: an upload to a temporary
file (see :mod:`storages_sftp.uploads`) that ``commit()`` moves into place.
"""

from __future__ import annotations

import contextlib
import io
import stat as stat_mode
import struct
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_DATA,
    CMD_FSTAT,
    CMD_HANDLE,
    CMD_OPEN,
    CMD_READ,
    SFTP_FLAG_READ,
    int64,
)

from storages_base.errors import AlreadyExistsError, StorageError, TransientError
from storages_base.remote import retrying, temporary_name

from . import wire
from .client import ATTEMPTS, Attributes, Connection, as_storage_error, attributes
from .errors import BACKEND, is_transient
from .uploads import Uploader

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .client import SFTPPool

__all__ = ["SFTPReader", "SFTPWriter", "close_quietly", "open_to_read", "stat_and_read"]

#: Bytes requested ahead of the reader (128 requests of 32 KiB in flight).
WINDOW = 4 * 1024 * 1024
#: Bytes of the first read, sent with the fstat of a new download (one SFTP request).
FIRST_READ = 32 * 1024
#: OPEN's flags (read only) and attributes (none), as ``SFTPClient.open(path, "rb")``.
_READ_FLAGS = struct.pack(">II", SFTP_FLAG_READ, 0)
_UINT32, _OFFSET_LENGTH = struct.Struct(">I"), struct.Struct(">QI")


def open_to_read(conn: Connection, path: str) -> bytes:
    """Open ``path`` for reading; return the server's handle (``SFTPClient.open``'s
    OPEN request, without the ``SFTPFile`` a small file's read never needs)."""
    kind, body = wire.call(conn, CMD_OPEN, wire.string(path) + _READ_FLAGS)
    if kind != CMD_HANDLE:
        raise paramiko.SFTPError("Expected handle")
    (length,) = _UINT32.unpack_from(body)
    return body[4 : 4 + length]


def stat_and_read(
    conn: Connection, handle: bytes, offset: int, length: int = FIRST_READ
) -> tuple[Attributes, bytes]:
    """The attributes of an open file and its first bytes from ``offset``, in one round trip.

    A download needs the size and time (``File.size`` and ``get_modified_time`` answer
    from them) and the content: sent one after the other, the fstat cost a round trip
    more than the classic backend's open and read. Both requests go out before either
    answer is read. A folder's read fails (EISDIR on OpenSSH): the stat then says why.
    """
    handle_string = wire.string(handle)
    read = wire.send(conn, CMD_READ, handle_string + _OFFSET_LENGTH.pack(offset, length))
    fstat = wire.send(conn, CMD_FSTAT, handle_string)
    failure: OSError | None = None
    head = b""
    try:
        kind, body = wire.receive(conn, read)
        if kind == CMD_DATA:
            (size,) = _UINT32.unpack_from(body)
            head = body[4 : 4 + size]
    except EOFError:  # at or past the end: nothing to read
        pass
    except OSError as exc:
        failure = exc
    attrs = attributes(*wire.receive(conn, fstat))
    if failure is not None and not stat_mode.S_ISDIR(attrs.mode or 0):
        raise failure
    if attrs.size is not None:
        head = head[: max(0, attrs.size - offset)]  # it shrank between the two
    return attrs, head


def close_quietly(conn: Connection, handle: bytes) -> None:
    """Close ``handle`` if the connection still works (the server drops it otherwise)."""
    if conn.alive:
        with contextlib.suppress(Exception):
            wire.call(conn, CMD_CLOSE, wire.string(handle))


class SFTPReader(io.RawIOBase):
    """A read-only, forward stream of one remote file from ``offset``."""

    #: The connection goes back to the pool when the read reaches the end (``_finish``).
    releases_at_end = True

    def __init__(
        self,
        pool: SFTPPool,
        path: str,
        size: int,
        offset: int = 0,
        *,
        name: str | None = None,
        modified: float | None = None,
        conn: Connection | None = None,
        file: paramiko.SFTPFile | None = None,
        handle: bytes | None = None,
        head: bytes = b"",
    ) -> None:
        """``conn`` and ``handle`` without ``file``: the whole rest of the file is ``head``."""
        super().__init__()
        self._pool = pool
        self._path = path
        self._name = name
        self.size = size
        self._modified = modified
        self._pos = offset
        self._conn = conn
        self._file = file
        self._head = memoryview(head)  # bytes at ``offset`` already read (stat_and_read)
        self._window_end = offset + len(head)  # requests are sent up to here (on the first read)
        #: The handle of a file open on ``conn`` but read without an ``SFTPFile``.
        self._open_handle = handle if file is None else None
        #: The connection and handle of a file read to the end, closed by close().
        self._handle: tuple[Connection, bytes] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view) or self._pos >= self.size:
            self._finish()
            return 0
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            self._pos += count
            if self._pos >= self.size:
                self._finish()
            return count
        data = retrying(
            lambda: self._read_once(len(view)), transient=is_transient, attempts=ATTEMPTS
        )
        view[: len(data)] = data
        self._pos += len(data)
        if not data or self._pos >= self.size:
            self._finish()  # read to the end: give the connection back early
        return len(data)

    def _read_once(self, count: int) -> bytes:
        if self._file is None:
            self._open()
        assert self._file is not None
        try:
            self._read_ahead()
            return self._file.read(min(count, self.size - self._pos))  # no read past the end
        except BaseException as exc:
            error = as_storage_error(exc, self._conn, self._name, "read")
            if isinstance(error, TransientError):
                self._drop()
            if error is exc:
                raise
            raise error from exc

    def _open(self) -> None:
        """Open the file at the current position on a (new) connection."""
        conn = self._pool.acquire()
        try:
            file = conn.sftp.open(self._path, "rb")
            attrs = file.stat()
            if (attrs.st_size, attrs.st_mtime) != (self.size, self._modified):
                file.close()
                raise StorageError(
                    "the file changed on the server while it was being read",
                    name=self._name,
                    operation="read",
                    backend=BACKEND,
                )
            file.seek(self._pos)
        except BaseException as exc:
            error = self._pool.give_back(conn, exc, self._name, "read")
            if error is exc:
                raise
            raise error from exc
        self._conn, self._file = conn, file
        self._window_end = self._pos

    def _read_ahead(self) -> None:
        """Keep up to WINDOW bytes requested ahead, topping up when half is consumed.

        ``_window_end`` is how far requests were sent; new ones start there, so none is
        sent twice and the server never idles between windows.
        """
        assert self._file is not None
        end = min(self.size, self._pos + WINDOW)
        start = max(self._window_end, self._pos)
        if end - start >= WINDOW // 2 or (end == self.size and end > start):
            _prefetch(self._file, start, end)
            self._window_end = end

    def _drop(self) -> None:
        """Forget a file and connection that failed; the next read reopens."""
        conn, self._conn, self._file, self._open_handle = self._conn, None, None, None
        if conn is not None:
            self._pool.discard(conn)

    def _finish(self) -> None:
        """Read to the end: give the connection back now, and close the handle at close().

        Every byte up to the size the fstat gave is in, and no read is outstanding, so
        the connection can serve other operations at once. The handle's close waits for
        the reader's close() (``SFTPPool.close_handle``): a whole read costs open,
        read+fstat, three requests in two round trips (the classic's open, read and
        read to EOF: three in three), and close() one, as the classic's.
        """
        file, conn, handle = self._file, self._conn, self._open_handle
        if conn is None or (file is None and handle is None) or self._pos < self.size:
            self._release()  # a file that ended early: closed now, as before
            return
        self._file = self._conn = self._open_handle = None
        if file is not None:
            handle = file.handle  # type: ignore[assignment]  # bytes (typed SFTPHandle)
            # Closed on this side only (a read-only file has nothing to flush), so that
            # paramiko's own finaliser sends no close of its own, from whatever thread.
            paramiko.BufferedFile.close(file)
        assert handle is not None
        self._handle = (conn, handle)
        self._pool.release(conn)

    def _release(self) -> None:
        file, conn, handle = self._file, self._conn, self._open_handle
        self._file = self._conn = self._open_handle = None
        if file is not None:
            # A dead connection fails to close the file; release() then drops it. (Not
            # closed asynchronously: its answer would then be read by, and its request
            # counted against, whatever the connection does next.)
            with contextlib.suppress(Exception):
                file.close()
        elif conn is not None and handle is not None:
            close_quietly(conn, handle)
        if conn is not None:
            self._pool.release(conn)

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self._pool.close_handle(*handle)
        self._release()
        super().close()


class SFTPWriter(io.RawIOBase):
    """What ``open(name, "wb")`` writes to: bytes stream to a temporary file on the server.

    ``commit()`` moves the complete file into place; ``close()`` without ``commit()``
    (a failed ``with`` block) removes it, leaving any old file untouched. The writer
    holds its connection until then; a dropped connection fails the write (the bytes
    already given cannot be sent again).
    """

    def __init__(
        self,
        pool: SFTPPool,
        conn: Connection,
        uploader: Uploader,
        path: str,
        *,
        name: str,
        exclusive: bool = False,
    ) -> None:
        # The temporary file is opened before this object exists: a failure then leaves
        # no half-built writer whose finaliser would give the connection back twice.
        temp = temporary_name(path)
        file = uploader.open(conn, temp)
        super().__init__()
        self._pool, self._conn, self._uploader = pool, conn, uploader
        self._path, self._name, self._exclusive = path, name, exclusive
        self._temp, self._file = temp, file
        self._written = 0
        self._done = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        chunk = bytes(data)
        with self._failing("save"):
            self._file.write(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def commit(self) -> None:
        """Move the written file into place (raise AlreadyExistsError for "x" mode)."""
        with self._failing("save"):
            self._uploader.finish(self._conn, self._file, self._temp, self._written, self._name)
            if not self._uploader.move(self._conn, self._temp, self._path, self._exclusive):
                raise AlreadyExistsError(
                    "File exists", name=self._name, operation="save", backend=BACKEND
                )
        self._done = True
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        conn = self._conn
        if not self._done:
            with contextlib.suppress(Exception):  # a dead connection cannot close it
                self._file.close()
            self._pool.abandon(conn if conn.alive else None, self._temp)
        (self._pool.release if conn.alive else self._pool.discard)(conn)
        super().close()

    @contextlib.contextmanager
    def _failing(self, operation: str) -> Iterator[None]:
        """Abandon the upload on any error, raised in the common vocabulary."""
        try:
            yield
        except BaseException as exc:
            error = as_storage_error(exc, self._conn, self._name, operation)
            self.close()
            if error is exc:
                raise
            raise error from exc


def _prefetch(file: paramiko.SFTPFile, start: int, end: int) -> None:
    """Ask for the bytes from ``start`` to ``end`` ahead of time, as ``prefetch()`` does.

    paramiko's own prefetch sends the requests from a thread of its own, which dies
    with a traceback on stderr when the connection drops, and always starts at the
    read position; this connection belongs to one reader, so the requests go out from
    the reader's thread, from where the previous ones stopped.
    """
    internals: Any = file  # paramiko's private prefetch state (stable since 1.x)
    if not hasattr(internals, "_prefetch_extents"):  # a paramiko without these internals
        file.prefetch(end)
        return
    sftp: Any = file.sftp
    for offset in range(start, end, file.MAX_REQUEST_SIZE):
        length = min(file.MAX_REQUEST_SIZE, end - offset)
        num = sftp._async_request(file, CMD_READ, file.handle, int64(offset), int(length))
        with internals._prefetch_lock:
            internals._prefetch_extents[num] = (offset, length)
            internals._prefetching = True
            internals._prefetch_done = False
