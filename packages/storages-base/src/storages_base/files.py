"""The file object ``Storage.open()`` returns, and adapters for uploaded content.

Reads stream: bytes come from the backend as they are read, ``seek`` reopens the
stream at the new offset, so ``open(name).read(1024)`` of a huge object transfers
little. Writes are spooled (memory up to ``max_memory_size``, then a temporary file
in ``FILE_UPLOAD_TEMP_DIR``) and stored on ``close()``, unless the backend hands a
streaming writer of its own.
"""

from __future__ import annotations

import codecs
import gzip
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import File

from .errors import AlreadyExistsError, TransientError

if TYPE_CHECKING:
    from .storage import BaseStorage

__all__ = [
    "CHUNK_SIZE",
    "BinaryReader",
    "RangedReader",
    "SpooledFile",
    "Stat",
    "StorageFile",
    "copy_stream",
    "spooled_file",
]

#: How much an upload or a download moves per call.
CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Stat:
    """What a backend knows of a stored file, read once and reused."""

    size: int
    modified: datetime | None = None  # aware, UTC
    created: datetime | None = None
    accessed: datetime | None = None
    etag: str | None = None
    content_type: str | None = None
    content_encoding: str | None = None


Opener = Callable[[int], IO[bytes]]


class RangedReader(io.RawIOBase):
    """A seekable raw stream over a backend that can start a read at any offset.

    ``opener(offset)`` returns a stream of the file from ``offset``; it is called on the
    first read and again only after a seek that moves the position.
    """

    def __init__(
        self,
        opener: Opener,
        size: int | None = None,
        stream: IO[bytes] | None = None,
        ranged: bool = True,
    ) -> None:
        super().__init__()
        self._opener = opener
        self._size = size
        self._stream = stream
        self._stream_pos = 0 if stream is not None else -1
        self._pos = 0
        self._ranged = ranged

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            if self._size is None:
                raise io.UnsupportedOperation("the size of this file is unknown")
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        if self._size is not None and self._pos >= self._size:
            return 0
        view = memoryview(buffer).cast("B")
        data = self._stream_at(self._pos).read(len(view))
        if not data and self._size is not None and self._pos < self._size:
            # The server's stream ended before the file did (a dropped connection):
            # start again from here once, then refuse to hand out a truncated file.
            self._close_stream()
            data = self._stream_at(self._pos).read(len(view))
            if not data:
                raise TransientError(
                    f"the stream ended at byte {self._pos} of {self._size}", operation="read"
                )
        size = len(data)
        view[:size] = data
        self._pos += size
        self._stream_pos += size
        # Read to the end: give the connection back now, not when (or if) the file is
        # closed; a later seek opens the stream again. A stream that gives its connection
        # back by itself at the end (``releases_at_end``: SFTP's, whose handle then waits
        # for close()) stays open until close().
        if (
            self._size is not None
            and self._pos >= self._size
            and not getattr(self._stream, "releases_at_end", False)
        ):
            self._close_stream()
        return size

    def _stream_at(self, pos: int) -> IO[bytes]:
        if self._stream is not None and self._stream_pos == pos:
            return self._stream
        if self._stream is not None and not self._ranged and self._stream_pos < pos:
            self._skip(pos - self._stream_pos)
            return self._stream
        self._close_stream()
        self._stream = self._opener(pos if self._ranged else 0)
        self._stream_pos = pos if self._ranged else 0
        if self._stream_pos < pos:
            self._skip(pos - self._stream_pos)
        return self._stream

    def _skip(self, count: int) -> None:
        # For backends that cannot start mid-file: read and drop, never hold.
        assert self._stream is not None
        while count > 0:
            chunk = self._stream.read(min(count, CHUNK_SIZE))
            if not chunk:
                break
            count -= len(chunk)
            self._stream_pos += len(chunk)

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        if self._stream is not None:  # a read to the end closed it already
            self._close_stream()
        io.RawIOBase.close(self)  # not super(): this runs at every close of a read file


class BinaryReader(io.RawIOBase):
    """Present any content (bytes or text file, Django ``File``) as a binary stream."""

    def __init__(self, content: Any, encoding: str | None = None) -> None:
        super().__init__()
        self._content = content
        self._encoding = encoding or getattr(content, "encoding", None) or "utf-8"
        # Incremental: a BOM (UTF-16) is written once, and the end is flushed once.
        self._encoder = codecs.getincrementalencoder(self._encoding)()
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # Only rewinding is offered (a text position is not a byte offset): enough for
        # a backend to send the content again after a dropped connection.
        try:
            return bool(self._content.seekable())
        except (AttributeError, ValueError):
            return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET) or not self.seekable():
            raise io.UnsupportedOperation("BinaryReader can only rewind to the start")
        self._content.seek(0)
        self._encoder.reset()
        self._pending, self._done = b"", False
        return 0

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            data = self._content.read(len(view))
            self._done = not data
            if isinstance(data, str):
                data = self._encoder.encode(data, final=self._done)
            self._pending = bytes(data or b"")
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class SpooledFile(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A temporary file in memory up to ``max_size`` bytes, then on disk.

    It states what it can do (``readable`` and friends, missing before Python 3.11),
    so ``io.TextIOWrapper`` can sit on it, and says where its bytes are (``on_disk``).
    """

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def on_disk(self) -> bool:
        """Whether the content spilled over ``max_size`` into a file on disk."""
        return bool(getattr(self, "_rolled", False))


def spooled_file(max_memory_size: int) -> IO[bytes]:
    """Return an empty temporary file: in memory up to the limit, then on disk.

    The disk file goes to ``FILE_UPLOAD_TEMP_DIR`` (the system default when unset).
    """
    return SpooledFile(
        max_size=max_memory_size,
        dir=getattr(settings, "FILE_UPLOAD_TEMP_DIR", None),
    )


def copy_stream(source: IO[bytes], target: IO[bytes]) -> int:
    """Copy ``source`` into ``target`` a chunk at a time; return the bytes copied."""
    total = 0
    while chunk := source.read(CHUNK_SIZE):
        target.write(chunk)
        total += len(chunk)
    return total


class StorageFile(File):  # type: ignore[type-arg]
    """What ``storage.open(name, mode)`` returns, for every backend.

    Read modes stream through a :class:`RangedReader` (a file stored with
    ``Content-Encoding: gzip`` is decompressed as it is read); ``w``/``x`` modes write
    to the backend's writer (a spool stored on close by default); ``a`` and ``+``
    modes work on a spooled copy that is stored back on close. Text modes wrap the
    binary stream the way Python's ``open()`` does (UTF-8, universal newlines).

    A ``with`` block that raises stores nothing: the write is abandoned.
    """

    def __init__(self, storage: BaseStorage, name: str, key: str, mode: str = "rb") -> None:
        self._storage = storage
        self._key = key
        self._stat: Stat | None = None
        self._raw: IO[bytes] | None = None
        self._under: list[IO[bytes]] = []  # streams closing ``file`` leaves open
        self._dirty = False
        self._store_on_close = False
        super().__init__(None, name)
        self.mode = mode
        self._open(mode)

    # -- opening -------------------------------------------------------------------------

    @property
    def _writing(self) -> bool:
        mode = self.mode  # asked by every File.size: no sets built
        return "w" in mode or "x" in mode or "a" in mode or "+" in mode

    def _open(self, mode: str) -> None:
        self._stat, self._dirty, self._under = None, False, []
        self._reading = not self._writing  # asked once here, not at every close
        if "r" in mode and "+" not in mode:
            raw = self._open_reader()
        elif "w" in mode or "x" in mode:
            raw = self._open_writer(exclusive="x" in mode)
        else:  # "a", "r+": work on a local copy
            raw = self._open_copy(mode)
        self._raw = raw
        self.file = (
            raw
            if "b" in mode
            else io.TextIOWrapper(raw, encoding="utf-8", newline=None, write_through=True)
        )

    def _open_reader(self) -> IO[bytes]:
        stream, self._stat = self._storage._read(self._key, 0)
        gzipped = self._stat is not None and self._stat.content_encoding == "gzip"
        # A gzipped file's stat may give its decompressed size (what read() returns, as
        # S3 does); the compressed stream under it then simply ends where the server's does.
        size = self._stat.size if self._stat and not gzipped else None
        reader: IO[bytes] = io.BufferedReader(
            RangedReader(
                self._reopen,
                size=size,
                stream=stream,
                ranged=self._storage.capabilities.ranged_reads,
            ),
            buffer_size=CHUNK_SIZE if size is None else max(8192, min(CHUNK_SIZE, size)),
        )
        if not gzipped:
            return reader
        self._under.append(reader)  # GzipFile.close() leaves its source open
        return gzip.GzipFile(fileobj=reader, mode="rb")  # type: ignore[return-value]

    def _reopen(self, offset: int) -> IO[bytes]:
        """The file from ``offset`` again (after a seek, or a stream that ended early),
        refused if it is no longer the file this read began: another writer replaced it
        meanwhile, and splicing the two would hand out bytes that no writer wrote."""
        stream, stat = self._storage._read(self._key, offset)
        if self._stat is not None and stat is not None and _replaced(self._stat, stat):
            stream.close()
            raise TransientError(
                "the file changed while it was read",
                name=self.name,
                operation="read",
                backend=self._storage.backend_name,
            )
        return stream

    def _open_writer(self, exclusive: bool) -> IO[bytes]:
        if exclusive and self._storage._exists(self._key):
            # Fail early, as open(name, "x") does; the store on close checks again.
            raise AlreadyExistsError(
                "File exists",
                name=self.name,
                operation="open",
                backend=self._storage.backend_name,
            )
        name = self._storage._name_for_key(self._key)
        request = self._storage._write_request(name, self._key, None)
        request.exclusive = exclusive
        raw = self._storage._open_writer(request)
        self._store_on_close = not hasattr(raw, "commit")
        return raw

    def _open_copy(self, mode: str) -> IO[bytes]:
        raw = self._storage._spool()
        try:
            stream, self._stat = self._storage._read(self._key, 0)
        except FileNotFoundError:
            if "r" in mode:
                raw.close()
                raise
            self._dirty = True  # "a" creates a missing file, as open() does
        else:
            with stream:
                if self._stat is not None and self._stat.content_encoding == "gzip":
                    # The copy holds what the user reads; storing it gzips it again.
                    with gzip.GzipFile(fileobj=stream, mode="rb") as decoded:
                        copy_stream(decoded, raw)  # type: ignore[arg-type]
                else:
                    copy_stream(stream, raw)
        raw.seek(0, io.SEEK_END if "a" in mode else io.SEEK_SET)
        self._store_on_close = True
        return raw

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> StorageFile:
        """Reopen the file (Django's ``FieldFile.open()`` calls this)."""
        if not self.closed:
            if mode is None or mode == self.mode:
                self.seek(0)
                return self
            self.close()
        self.mode = mode or self.mode
        self._open(self.mode)
        return self

    # -- reading and writing ---------------------------------------------------------------

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        self._dirty = True
        return int(self._io.write(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def truncate(self, size: int | None = None) -> int:
        self._dirty = True
        return int(self._io.truncate(size))

    @property
    def _io(self) -> IO[Any]:
        assert self.file is not None, "the file was never opened"
        return self.file

    @property
    def size(self) -> int:
        """Bytes written so far while writing; the stored size otherwise."""
        stat = self._stat
        if self._reading and stat is not None:  # the read's own stat: nothing to ask
            return stat.size
        if not self._reading and not self.closed:
            self._io.flush()
            assert self._raw is not None
            return _written_size(self._raw)
        if stat is None:
            self._stat = stat = self._storage._stat(self._key)
        return stat.size

    @property
    def closed(self) -> bool:
        return self.file is None or bool(self.file.closed)

    def close(self) -> None:
        """Close the file; a written file is stored now, and errors are raised here.

        A streaming writer (one with ``commit()``) is committed; closing it without a
        commit, as happens when storing fails, abandons the upload.
        """
        file = self.file
        if file is None:
            return
        if self._reading:  # a reader stores nothing: no flush, no commit to look for
            self._dirty = False
            if self._under:
                try:
                    file.close()
                finally:
                    for stream in self._under:
                        stream.close()
            else:
                file.close()  # closing a closed reader does nothing
            return
        if file.closed:
            return
        raw = self._raw
        assert raw is not None
        try:
            self._io.flush()
            if self._store_on_close and (self._dirty or "w" in self.mode or "x" in self.mode):
                raw.seek(0)
                self._storage._store(self._key, raw, exclusive="x" in self.mode)
            elif not self._store_on_close and hasattr(raw, "commit"):
                raw.commit()
        finally:
            self._release()

    def _release(self) -> None:
        """Close every stream without storing anything (an abandoned write)."""
        try:
            self._io.close()  # a text wrapper closes the binary stream under it
        finally:
            for stream in self._under:
                stream.close()
            if self._writing:
                self._stat = None  # the stored file changed; ask again
            self._dirty = False

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is not None and self._writing and not self.closed:
            self._release()  # a failed ``with`` block stores nothing
        else:
            self.close()

    def __getstate__(self) -> dict[str, Any]:
        # A file is pickled by name only (FieldFile does the same); reopen to use it.
        raise TypeError("an open StorageFile cannot be pickled; pickle its name instead")


def _written_size(raw: IO[bytes]) -> int:
    """Return how many bytes ``raw`` holds (a spool) or has taken (a stream)."""
    if not raw.seekable():
        return raw.tell()
    position = raw.tell()
    end = raw.seek(0, io.SEEK_END)
    raw.seek(position)
    return end


def _replaced(first: Stat, now: Stat) -> bool:
    """Whether ``now`` is the stat of another version than ``first`` (by ETag where both
    have one, else by modified time): sizes are not compared, a ranged read's may differ."""
    if first.etag is not None and now.etag is not None:
        return first.etag != now.etag
    if first.modified is None or now.modified is None:
        return False
    return first.modified != now.modified
