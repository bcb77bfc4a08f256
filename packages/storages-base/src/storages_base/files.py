"""The file object ``Storage.open()`` returns, and adapters for uploaded content.

Reads stream: bytes come from the backend as they are read, ``seek`` reopens the
stream at the new offset, so ``open(name).read(1024)`` of a huge object transfers
little. Writes are spooled (memory up to ``max_memory_size``, then a temporary file
in ``FILE_UPLOAD_TEMP_DIR``) and stored on ``close()``, unless the backend hands a
streaming writer of its own.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import File

if TYPE_CHECKING:
    from .storage import BaseStorage

__all__ = ["BinaryReader", "RangedReader", "Stat", "StorageFile", "spooled_file"]

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
        stream = self._stream_at(self._pos)
        data = stream.read(len(view))
        size = len(data)
        view[:size] = data
        self._pos += size
        self._stream_pos += size
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
        self._close_stream()
        super().close()


class BinaryReader(io.RawIOBase):
    """Present any content (bytes or text file, Django ``File``) as a binary stream."""

    def __init__(self, content: Any, encoding: str | None = None) -> None:
        super().__init__()
        self._content = content
        self._encoding = encoding or getattr(content, "encoding", None) or "utf-8"
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending:
            data = self._content.read(len(view))
            if isinstance(data, str):
                data = data.encode(self._encoding)
            self._pending = bytes(data or b"")
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def spooled_file(max_memory_size: int) -> IO[bytes]:
    """Return an empty temporary file: in memory up to the limit, then on disk."""
    return tempfile.SpooledTemporaryFile(  # noqa: SIM115 - the caller owns it
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


class StorageFile(File):  # type: ignore[misc]
    """What ``storage.open(name, mode)`` returns, for every backend.

    Read modes stream through a :class:`RangedReader`; ``w``/``x`` modes write to the
    backend's writer (a spool stored on close by default); ``a`` and ``+`` modes work
    on a spooled copy that is stored back on close. Text modes wrap the binary stream
    the way Python's ``open()`` does (universal newlines).
    """

    def __init__(self, storage: BaseStorage, name: str, key: str, mode: str = "rb") -> None:
        self._storage = storage
        self._key = key
        self._stat: Stat | None = None
        self._raw: IO[bytes] | None = None
        self._dirty = False
        self._store_on_close = False
        super().__init__(None, name)
        self.mode = mode
        self._text = "b" not in mode
        self._open(mode)

    # -- opening -------------------------------------------------------------------------

    def _open(self, mode: str) -> None:
        reading = "r" in mode and "+" not in mode
        creating = "w" in mode or "x" in mode
        if reading:
            stream, self._stat = self._storage._read(self._key, 0)
            size = self._stat.size if self._stat else None
            raw: IO[bytes] = io.BufferedReader(
                RangedReader(
                    lambda offset: self._storage._read(self._key, offset)[0],
                    size=size,
                    stream=stream,
                    ranged=self._storage.capabilities.ranged_reads,
                ),
                buffer_size=CHUNK_SIZE if size is None else max(8192, min(CHUNK_SIZE, size)),
            )
        elif creating:
            raw = self._storage._open_writer(self._key, exclusive="x" in mode)
            self._store_on_close = not hasattr(raw, "commit")
        else:  # "a", "r+", "w+"-like updates: work on a local copy
            raw = self._storage._spool()
            try:
                stream, self._stat = self._storage._read(self._key, 0)
            except FileNotFoundError:
                if "r" in mode:
                    raise
            else:
                with stream:
                    copy_stream(stream, raw)
            raw.seek(0, io.SEEK_END if "a" in mode else io.SEEK_SET)
            self._store_on_close = True
        self._raw = raw
        self.file = (
            io.TextIOWrapper(raw, encoding="utf-8", newline=None, write_through=True)  # type: ignore[type-var]
            if self._text
            else raw
        )

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> StorageFile:
        """Reopen the file (Django's ``FieldFile.open()`` calls this)."""
        if not self.closed:
            if mode is None or mode == self.mode:
                self.seek(0)
                return self
            self.close()
        self.mode = mode or self.mode
        self._text = "b" not in self.mode
        self._dirty = False
        self._open(self.mode)
        return self

    # -- reading and writing ---------------------------------------------------------------

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        self._dirty = True
        return self.file.write(data)  # type: ignore[no-any-return]

    @property
    def size(self) -> int:  # type: ignore[override]
        if self._raw is not None and not self.closed and ("r" not in self.mode or "+" in self.mode):
            self.file.flush()
            return self._raw_size()
        if self._stat is None:
            self._stat = self._storage._stat(self._key)
        return self._stat.size

    def _raw_size(self) -> int:
        assert self._raw is not None
        position = self._raw.tell()
        end = self._raw.seek(0, io.SEEK_END)
        self._raw.seek(position)
        return end

    @property
    def closed(self) -> bool:
        return self.file is None or self.file.closed

    def close(self) -> None:
        """Close the file; a written file is stored now, and errors are raised here.

        A streaming writer (one with ``commit()``) is committed; closing it without a
        commit, as happens when storing fails, abandons the upload.
        """
        if self.closed:
            return
        raw = self._raw
        assert raw is not None
        try:
            self.file.flush()
            if self._store_on_close:
                if self._dirty or "w" in self.mode or "x" in self.mode:
                    raw.seek(0)
                    self._storage._store(self._key, raw, exclusive="x" in self.mode)
            elif hasattr(raw, "commit"):
                raw.commit()
        finally:
            self.file.close()  # a text wrapper closes the binary stream under it
            self._dirty = False

    def __getstate__(self) -> dict[str, Any]:
        # A file is pickled by name only (FieldFile does the same); reopen to use it.
        raise TypeError("an open StorageFile cannot be pickled; pickle its name instead")
