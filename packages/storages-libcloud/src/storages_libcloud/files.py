"""Streams over libcloud's chunk iterators, both ways.

libcloud downloads as an iterator of byte chunks and uploads from an iterator; Django
reads and writes file objects. These adapters hold one chunk at a time, never the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from storages_base.files import CHUNK_SIZE, StorageFile
from storages_base.verified import VerifiedStream

__all__ = ["ChunkStream", "LibCloudFile", "chunks_of"]


class LibCloudFile(StorageFile):
    """What ``LibCloudStorage.open()`` returns (django-storages' class name)."""


class ChunkStream(VerifiedStream):
    """A readable raw stream over an iterator of byte chunks (a libcloud download).

    ``translate`` wraps each step of the iterator, so an error met mid-download (a
    dropped connection, LOCAL's lazy open of a missing file) is raised as the common
    vocabulary, as the first request's errors are. Given the object's ``md5`` (hex), a
    whole download is checked against it at its end (IntegrityError).
    """

    algorithm = "MD5"

    def __init__(
        self,
        chunks: Iterator[bytes],
        translate: Callable[[], Any],
        md5: str | None = None,
        name: str = "",
        size: int | None = None,
    ) -> None:
        hasher = hashlib.md5(usedforsecurity=False) if md5 else None
        super().__init__(name=name, backend="libcloud", expected=md5, hasher=hasher, size=size)
        self._chunks = chunks
        self._translate = translate
        self._pending = memoryview(b"")
        self._done = False

    def _fetch(self, size: int) -> memoryview:
        while not self._pending and not self._done:
            with self._translate():
                chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
            else:
                self._pending = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk))
        data = self._pending[:size]
        self._pending = self._pending[size:]
        return data

    def _release(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator's close releases LOCAL's open file
        self._pending, self._done = memoryview(b""), True


def chunks_of(stream: IO[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield ``stream`` a chunk at a time: what ``upload_object_via_stream`` takes."""
    while chunk := stream.read(size):
        yield bytes(chunk)
