"""A download stream checked against the checksum the server sent with it.

S3 (an MD5 ETag), GCS (CRC32C), Dropbox (its content hash) and libcloud's drivers (an
MD5) each state a hash of the bytes they hold. What a provider does with it is the same
everywhere: hash the bytes as they pass, and when the read that completes the body
comes, compare, and raise :class:`~storages_base.IntegrityError` instead of returning
those bytes if they differ. Only the hash, the expected value and how the next bytes are
fetched differ: this class holds the rest once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Protocol

from .errors import IntegrityError

__all__ = ["Hasher", "VerifiedStream", "hexdigest"]


class Hasher(Protocol):
    """What ``hashlib`` objects, ``google_crc32c.Checksum`` and the like share."""

    def update(self, data: Any, /) -> Any: ...


def hexdigest(hasher: Any) -> str:
    """The hex digest: how MD5s and Dropbox's content hash are written."""
    return str(hasher.hexdigest())


class VerifiedStream(io.RawIOBase):
    """A raw stream over one download, whose bytes are checked against ``expected``.

    A subclass says how to get the next bytes (:meth:`_fetch`) and how to let the
    download go (:meth:`_release`). Given ``expected`` (written as ``encode(hasher)``
    writes a digest) and ``hasher``, every byte handed out is hashed; the read that
    reaches ``size`` bytes, or the end of the stream when ``size`` is unknown or not
    reached, compares. No buffering: a caller that streams gets the error at the end,
    one that reads the whole file gets no bytes at all. Without ``expected`` nothing is
    hashed (a range, or a server that states no checksum).
    """

    #: The hash's name, for the error message.
    algorithm = "checksum"

    def __init__(
        self,
        *,
        name: str,
        backend: str,
        expected: str | None = None,
        hasher: Hasher | None = None,
        encode: Callable[[Any], str] = hexdigest,
        size: int | None = None,
    ) -> None:
        super().__init__()
        self._name = name
        self._backend = backend
        self._expected = expected
        self._hasher = hasher if expected else None
        self._encode = encode
        self._size = size  # the bytes this download holds, when known
        self._seen = 0

    def _fetch(self, size: int) -> bytes | memoryview:
        """At most ``size`` bytes of the download (any bytes-like); empty at its end."""
        raise NotImplementedError

    def _release(self) -> None:
        """Let the download go (the connection, the iterator): called once, on close."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._fetch(len(view))
        size = len(data)
        self._seen += size
        if self._hasher is not None:
            if size:
                self._hasher.update(data)
            if not size or (self._size is not None and self._seen >= self._size):
                self._verify()
        view[:size] = data
        return size

    def stop_checking(self) -> None:
        """Hash no more: the rest of the body comes from another request."""
        self._hasher = None

    def _verify(self) -> None:
        hasher, self._hasher = self._hasher, None
        if hasher is None:
            return
        got = self._encode(hasher)
        if got != self._expected:
            raise IntegrityError(
                self._mismatch(got),
                name=self._name,
                operation="read",
                backend=self._backend,
            )

    def _mismatch(self, got: str) -> str:
        """The error's message, given the digest of the bytes read."""
        return (
            f"the downloaded bytes have {self.algorithm} {got}, the stored object {self._expected}"
        )

    def close(self) -> None:
        if not self.closed:
            self._release()
        super().close()
