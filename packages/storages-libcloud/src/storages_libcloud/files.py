"""Streams over libcloud's chunk iterators, both ways.

libcloud downloads as an iterator of byte chunks and uploads from an iterator; Django
reads and writes file objects. These adapters hold one chunk at a time, never the file.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from storages_base.files import CHUNK_SIZE, StorageFile

__all__ = ["ChunkStream", "LibCloudFile", "chunks_of"]


class LibCloudFile(StorageFile):
    """What ``LibCloudStorage.open()`` returns (django-storages' class name)."""


class ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks (a libcloud download).

    ``translate`` wraps each step of the iterator, so an error met mid-download (a
    dropped connection, LOCAL's lazy open of a missing file) is raised as the common
    vocabulary, as the first request's errors are.
    """

    def __init__(self, chunks: Iterator[bytes], translate: Callable[[], Any]) -> None:
        super().__init__()
        self._chunks = chunks
        self._translate = translate
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            with self._translate():
                chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
            else:
                self._pending = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk))
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # a generator's close releases LOCAL's open file
            self._pending, self._done = memoryview(b""), True
        super().close()


def chunks_of(stream: IO[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield ``stream`` a chunk at a time: what ``upload_object_via_stream`` takes."""
    while chunk := stream.read(size):
        yield bytes(chunk)
