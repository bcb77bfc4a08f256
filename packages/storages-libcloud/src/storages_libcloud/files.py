"""Streams over libcloud's chunk iterators, both ways.

libcloud downloads as an iterator of byte chunks and uploads from an iterator; Django
reads and writes file objects. These adapters hold one chunk at a time, never the file.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from storages_base.errors import IntegrityError
from storages_base.files import CHUNK_SIZE, StorageFile

__all__ = ["ChunkStream", "LibCloudFile", "chunks_of"]


class LibCloudFile(StorageFile):
    """What ``LibCloudStorage.open()`` returns (django-storages' class name)."""


class ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks (a libcloud download).

    ``translate`` wraps each step of the iterator, so an error met mid-download (a
    dropped connection, LOCAL's lazy open of a missing file) is raised as the common
    vocabulary, as the first request's errors are. Given the object's ``md5`` (hex), a
    whole download is checked against it at its end (IntegrityError).
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        translate: Callable[[], Any],
        md5: str | None = None,
        name: str = "",
        size: int | None = None,
    ) -> None:
        super().__init__()
        self._chunks = chunks
        self._translate = translate
        self._pending = memoryview(b"")
        self._done = False
        self._expected, self._name = md5, name
        self._digest = hashlib.md5(usedforsecurity=False) if md5 else None
        # A reader that knows the size stops there, before the iterator's end: check there.
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            with self._translate():
                chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
                self._verify()
            else:
                self._pending = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk))
                if self._digest is not None:
                    self._digest.update(self._pending)
                    if self._left is not None:
                        self._left -= len(self._pending)
                        if self._left <= 0:
                            self._verify()
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _verify(self) -> None:
        digest, self._digest = self._digest, None
        if digest is not None and digest.hexdigest() != self._expected:
            raise IntegrityError(
                f"the downloaded bytes have MD5 {digest.hexdigest()}, the stored object "
                f"{self._expected}",
                name=self._name,
                operation="read",
                backend="libcloud",
            )

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
