"""Parts of a file on disk, sent from where they lie instead of copied into memory.

Most large uploads Django hands a storage are files on disk: a ``TemporaryUploadedFile``,
a ``File(open(...))``. Their parts can be read with ``os.pread`` by several threads at
once, each from its own offset, so a multipart upload needs no buffer per part in flight
and memory stays flat however many parts are sent concurrently.
"""

from __future__ import annotations

import io
import os
import stat
from typing import IO, Any

__all__ = ["FilePart", "PartView", "file_parts", "file_region"]


class PartView(io.RawIOBase):
    """A read-only, seekable stream over ``length`` bytes held elsewhere, with a position
    of its own: what an SDK sends a part from, rewinds for a retry, and asks the length of
    (``len``). Subclasses read from the position (a file by offset, a buffer in place)."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length
        self._position = 0

    def __len__(self) -> int:
        return self.length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position


class FilePart(PartView):
    """A read-only, seekable view of ``length`` bytes of ``fd`` from ``start``.

    The descriptor's own position is never used or moved, so parts of one file can be
    read from several threads, and rewound for a retry.
    """

    def __init__(self, fd: int, start: int, length: int) -> None:
        super().__init__(length)
        self.fd, self.start = fd, start

    def read(self, size: int | None = -1) -> bytes:
        left = self.length - self._position
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = os.pread(self.fd, size, self.start + self._position)
        if not data:
            raise OSError(f"the file ended {left} bytes before the part did (truncated?)")
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer).cast("B")))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)


def file_parts(content: Any, part_size: int, size: int | None) -> list[FilePart] | None:
    """``content`` from its current position as parts of ``part_size`` bytes, or None.

    None unless ``content`` is a regular file with a descriptor whose remaining length is
    ``size`` (a pipe, a socket, an in-memory file or a transformed stream is read as a
    stream instead).
    """
    fd = _descriptor(content)
    if fd is None or size is None or not hasattr(os, "pread"):  # no pread on Windows
        return None
    try:
        info = os.fstat(fd)
        start = content.tell()
    except (OSError, ValueError, AttributeError):
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size - start != size:
        return None
    return [
        FilePart(fd, offset, min(part_size, start + size - offset))
        for offset in range(start, start + size, part_size)
    ] or [FilePart(fd, start, 0)]


def file_region(content: Any, size: int | None) -> FilePart | None:
    """The rest of ``content`` as one :class:`FilePart`, or None (see :func:`file_parts`)."""
    parts = file_parts(content, max(size or 0, 1), size)
    return parts[0] if parts is not None and len(parts) == 1 else None


def _descriptor(content: IO[bytes] | Any) -> int | None:
    fileno = getattr(content, "fileno", None)
    if fileno is None:
        return None
    try:
        return int(fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
