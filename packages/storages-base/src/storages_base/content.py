"""What is uploaded: its size and whether it rewinds, its content type, deterministic gzip."""

from __future__ import annotations

import gzip
import io
import mimetypes
import zlib
from collections.abc import Iterable
from typing import IO, Any

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "GZIP_CONTENT_TYPES",
    "GzipCompressor",
    "guess_content_type",
    "gzip_original_size",
    "known_size",
    "rewindable",
    "should_gzip",
]

DEFAULT_CONTENT_TYPE = "application/octet-stream"

#: The content types gzipped when a backend's ``gzip`` option is on (django-storages' list).
GZIP_CONTENT_TYPES: tuple[str, ...] = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "image/svg+xml",
)

# mimetypes reports a compressed file's *encoding* ("x.tar.gz" -> tar + gzip). Sent as
# Content-Encoding, that makes browsers and HTTP clients silently decompress a
# download the user meant to keep compressed, so the archive type is used instead.
_ARCHIVE_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
    "zstd": "application/zstd",
}


def guess_content_type(name: str, content: Any = None, default: str = DEFAULT_CONTENT_TYPE) -> str:
    """Return the content type to store ``name`` with.

    A ``content_type`` attribute on the content (Django's ``UploadedFile`` has one)
    wins over the guess from the name; a compressed file is its archive type.
    """
    explicit = getattr(content, "content_type", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    guessed, encoding = mimetypes.guess_type(name)
    if encoding:
        return _ARCHIVE_TYPES.get(encoding, DEFAULT_CONTENT_TYPE)
    return guessed or default


def should_gzip(content_type: str, gzip_content_types: Iterable[str]) -> bool:
    """Return whether a file of ``content_type`` is compressed when gzip is enabled."""
    return content_type.split(";", 1)[0].strip().lower() in {t.lower() for t in gzip_content_types}


class GzipCompressor(io.RawIOBase):
    """A readable stream of the gzip of ``source``, compressed as it is read.

    Memory stays bounded by the read size whatever the file's size. The output is
    deterministic (no timestamp, no file name in the header), so the same bytes give
    the same object and the same ETag on every upload.
    """

    def __init__(self, source: IO[bytes] | IO[str], chunk_size: int = 64 * 1024, level: int = 6):
        super().__init__()
        self._source = source
        self._chunk_size = chunk_size
        # wbits=31: a gzip header whose mtime is 0 and which has no name field.
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
        self._pending = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._eof:
            chunk = self._source.read(self._chunk_size)
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if chunk:
                self._pending += self._compressor.compress(chunk)
            else:
                self._pending += self._compressor.flush()
                self._eof = True
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        del self._pending[:size]
        return size


def gzip_original_size(trailer: bytes | bytearray) -> int:
    """Return the decompressed size a gzip stream records in its last four bytes.

    Backends report this as ``size()`` of a gzipped file, so that ``size()`` matches
    what ``open().read()`` returns (the classic backends reported the stored size).
    Exact below 4 GiB (the field is the size modulo 2**32).
    """
    return int.from_bytes(trailer[-4:], "little")


def rewindable(content: Any) -> bool:
    """Whether ``content`` can go back to its start (to be sent again)."""
    try:
        return bool(content.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def known_size(content: Any) -> int | None:
    """Return the byte size of ``content`` if it is cheap to know, else None.

    Text is encoded on the way out, so its length in characters is not its size.
    """
    if _is_text(content):
        return None
    try:
        size = content.size if hasattr(content, "size") else _stream_size(content)
    except (AttributeError, OSError, ValueError, TypeError):
        return None
    return size if isinstance(size, int) else None


def _stream_size(stream: Any) -> int | None:
    if not rewindable(stream):
        return None
    position = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(position)
    return int(end)


def _is_text(content: Any) -> bool:
    """Whether ``content`` gives text, or bytes other than its ``size`` (gunzipped)."""
    inner = getattr(content, "file", content)
    return isinstance(inner, (io.TextIOBase, gzip.GzipFile)) or isinstance(content, io.TextIOBase)
