"""The bounded-memory chunked upload engine every part-based provider shares.

A file that fits in one part is sent in one request (the provider's ``put_single``).
A larger one is sent as parts, each sent as soon as it is read, at most ``concurrency``
in flight, so memory holds ``concurrency`` parts plus the one being read whatever the
file's size. A file on disk is sent as parts read by offset where they lie
(:mod:`storages_base.fileparts`), so no part is held at all. Any failure (a part
refused, the content's own read raising, an interrupt) aborts the whole upload:
nothing is committed, nothing half-written becomes visible.

A provider implements :class:`PartTarget`, one instance per upload, and lists
:class:`ChunkedUploads` before ``BaseStorage`` in its storage's bases, whose
``_part_target(request)`` returns one; ``_write`` and ``_open_writer`` then come from
here. The target:

* ``rules``: its :class:`PartRules` (minimum and maximum part size, most parts,
  alignment, most parts in flight);
* ``put_single(data)``: store a file small enough for one request;
* ``begin()``: start an upload of parts (called once, before the first part);
* ``send_part(number, data) -> token``: send part ``number`` (from 1); the token is
  whatever ``commit`` needs for that part;
* ``commit(tokens)``: make the parts the file, tokens in part order;
* ``abort()``: drop what was sent (called only after ``begin``);
* ``prepare(number, data)`` (optional): work on a part before it waits for a slot, in
  the caller's thread (e.g. its checksum), so it overlaps the parts in flight.

How the next providers plug in:

* S3: ``CreateMultipartUpload`` / ``UploadPart`` (token: ETag and checksums) /
  ``CompleteMultipartUpload`` / ``AbortMultipartUpload``; 5 MiB to 5 GiB parts, 10,000
  parts; any concurrency (``storages_s3.files.S3Parts``).
* Azure block blobs: ``begin`` does nothing; ``send_part`` is ``stage_block`` with a
  block id made from the part number (the token); ``commit`` is ``commit_block_list``
  (with ``if_none_match="*"`` when exclusive); ``abort`` does nothing (uncommitted
  blocks expire); blocks up to 4000 MiB, 50,000 blocks; any concurrency.
* GCS resumable uploads: ``begin`` opens the session; ``send_part`` PUTs the bytes at
  the session's offset; ``commit`` sends the final (possibly empty) chunk with the total
  size; ``abort`` DELETEs the session; ``alignment=256 * 1024``; ``max_in_flight=1`` (a
  session takes its bytes in order).
* Dropbox upload sessions: ``begin`` is ``upload_session/start``, ``send_part`` is
  ``append_v2`` at the offset so far, ``commit`` is ``finish`` with the commit info
  (mode add when exclusive); ``abort`` does nothing (sessions expire); 4 MiB alignment,
  150 MiB parts; ``max_in_flight=1``.

The streaming writer for ``open(name, "wb")`` is :class:`ChunkedWriter` on the same
target: parts are sent as its buffer fills, ``commit()`` stores, ``close()`` without a
commit aborts, and it can gzip what is written on the way.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from .fileparts import file_parts

if TYPE_CHECKING:  # the storage hands its requests down; this module never calls it
    from .storage import WriteRequest

logger = logging.getLogger(__name__)

__all__ = [
    "PARTS_PER_SIZE",
    "ChunkedUpload",
    "ChunkedUploads",
    "ChunkedWriter",
    "Part",
    "PartRules",
    "PartTarget",
    "hash_part",
    "part_md5",
    "part_size_for",
    "read_chunks",
    "upload",
]

#: A part's body: bytes in memory, or a part of a file on disk read as it is sent.
Part = bytes | bytearray | io.RawIOBase

#: A stream of unknown size doubles its part size every this many parts (up to 512
#: times), so S3's 10,000 parts of 5 MiB upward hold about 4.9 TiB instead of 48 GiB;
#: memory grows with the part size only on such long streams.
PARTS_PER_SIZE = 1_000


def part_size_for(base: int, number: int, every: int = PARTS_PER_SIZE) -> int:
    """The size of part ``number`` (from 1) of an upload whose total size is unknown."""
    return base << min((number - 1) // every, 9)


def hash_part(hasher: Any, data: Part) -> Any:
    """Feed a part to ``hasher`` (``update()``) and return it, for a checksum the
    provider sends with the part: a buffer at once (no copy); a part of a file on disk
    read a MiB at a time and rewound, so that it is sent whole after."""
    if isinstance(data, (bytes, bytearray)):
        hasher.update(data)
        return hasher
    data.seek(0)
    while block := data.read(1024 * 1024):
        hasher.update(block)
    data.seek(0)
    return hasher


def part_md5(data: Part) -> bytes:
    """The MD5 of a part (S3's Content-MD5, Azure's transactional MD5)."""
    return bytes(hash_part(hashlib.md5(usedforsecurity=False), data).digest())


@dataclass(frozen=True)
class PartRules:
    """What a provider accepts as parts; every part but the last obeys them."""

    min_size: int = 1
    max_size: int | None = None
    max_parts: int | None = None
    #: Every part but the last is a multiple of this (GCS: 256 KiB).
    alignment: int = 1
    #: Unknown size: the part size doubles every this many parts (None: never grows).
    grow_every: int | None = PARTS_PER_SIZE
    #: The most parts the provider takes at once (1: in order, as GCS and Dropbox need).
    max_in_flight: int | None = None

    def part_size(self, wanted: int, total: int | None = None) -> int:
        """The part size to use for ``wanted`` bytes a part and a file of ``total`` bytes.

        Raised to the minimum, raised so that ``total`` fits in ``max_parts``, rounded up
        to the alignment and kept under the maximum.
        """
        size = max(self.min_size, wanted, 1)
        if total is not None and self.max_parts:
            size = max(size, -(-total // self.max_parts))
        size = self._align(size, up=True)
        if self.max_size is not None:
            size = min(size, self._align(self.max_size, up=False))
        return size

    def nth_size(self, base: int, number: int) -> int:
        """The size of part ``number`` of a stream of unknown size starting at ``base``."""
        if self.grow_every is None:
            return base
        size = part_size_for(base, number, self.grow_every)
        if self.max_size is not None:
            size = min(size, self._align(self.max_size, up=False))
        return max(size, base)

    def _align(self, size: int, up: bool) -> int:
        step = self.alignment
        return (-(-size // step) if up else max(size // step, 1)) * step


class PartTarget(ABC):
    """One upload of one file, as a provider sends it (see the module docstring)."""

    rules: PartRules = PartRules()

    @abstractmethod
    def put_single(self, data: bytes | bytearray) -> None:
        """Store ``data`` as the whole file in one request."""

    @abstractmethod
    def begin(self) -> None:
        """Start an upload of parts."""

    @abstractmethod
    def send_part(self, number: int, data: Part) -> Any:
        """Send part ``number`` (from 1); return what ``commit`` needs of it."""

    @abstractmethod
    def commit(self, tokens: list[Any]) -> None:
        """Make the parts sent the stored file (``tokens`` in part order)."""

    @abstractmethod
    def abort(self) -> None:
        """Drop every part sent; the stored file (if any) stays as it was."""

    def prepare(self, number: int, data: Part) -> None:  # noqa: B027 (optional hook)
        """Work on part ``number`` before it is sent, overlapping the parts in flight."""


class ChunkedUpload:
    """Sends parts to a :class:`PartTarget`, at most ``concurrency`` at once.

    ``send()`` blocks while ``concurrency`` parts are in flight, so the caller never
    reads further ahead than that: memory is bounded by parts, not by the file.
    """

    def __init__(self, target: PartTarget, concurrency: int = 1) -> None:
        self.target = target
        self.started = False
        self._concurrency = max(1, min(concurrency, target.rules.max_in_flight or concurrency))
        self._tokens: list[Any] = []
        self._futures: list[Future[Any]] = []
        self._pool: ThreadPoolExecutor | None = None  # only a concurrent upload makes one
        self._slots = threading.BoundedSemaphore(self._concurrency)

    def send(self, data: Part) -> None:
        """Send ``data`` as the next part (from a worker thread when concurrent)."""
        if not self.started:
            self.target.begin()
            self.started = True
            if self._concurrency > 1:
                self._pool = ThreadPoolExecutor(self._concurrency, "storages-upload")
        number = len(self._tokens) + len(self._futures) + 1
        if self._pool is None:
            self.target.prepare(number, data)
            self._tokens.append(self.target.send_part(number, data))
            return
        self._raise_failed()
        self.target.prepare(number, data)  # while the parts in flight are sent
        self._slots.acquire()  # at most `concurrency` parts in memory and in flight
        try:  # a part that failed while we waited stops the upload before one more is sent
            self._raise_failed()
        except BaseException:
            self._slots.release()
            raise
        future = self._pool.submit(self.target.send_part, number, data)
        # Released once the future is done, so a failure is seen by whoever gets the slot.
        future.add_done_callback(lambda _done: self._slots.release())
        self._futures.append(future)

    def _raise_failed(self) -> None:
        for future in self._futures:
            if future.done() and future.exception() is not None:
                future.result()

    def send_all(self, parts: Iterable[Part]) -> None:
        """Send every part and commit; abort on any failure, the parts' own reads included."""
        try:
            for part in parts:
                self.send(part)
                del part  # a sent part is not held while the next one is read
            self.commit()
        except BaseException:
            self.abort()
            raise

    def commit(self) -> None:
        """Wait for the parts in flight, then commit them in order."""
        tokens = self._tokens + [future.result() for future in self._futures]
        self._close_pool()
        self.target.commit(tokens)
        self.started = False

    def abort(self) -> None:
        """Stop sending and drop what was sent; the error that made us abort is kept."""
        self._close_pool(cancel=True)
        if not self.started:
            return
        self.started = False
        try:
            self.target.abort()
        except Exception as exc:
            logger.warning("Could not abort an upload (%s): %s", type(self.target).__name__, exc)

    def _close_pool(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


def upload(
    target: PartTarget,
    content: IO[bytes],
    *,
    size: int | None,
    part_size: int,
    concurrency: int = 1,
    source: Any = None,
    file_part_size: int | None = None,
    file_concurrency: int | None = None,
) -> None:
    """Store ``content`` through ``target``: one request if it fits a part, else parts.

    ``source`` (``WriteRequest.source``) that is a file on disk of ``size`` bytes is
    sent as parts read where they lie (``file_part_size``, ``file_concurrency``).
    """
    rules = target.rules
    if source is not None and file_part_size is not None:
        parts = file_parts(source, rules.part_size(file_part_size, size), size)
        if parts is not None and len(parts) > 1:
            on_disk: list[Part] = list(parts)
            ChunkedUpload(target, file_concurrency or concurrency).send_all(on_disk)
            return
    chunks = read_chunks(content, rules.part_size(part_size, size), size, rules)
    first = next(chunks, b"")
    second = next(chunks, None)
    if second is None:
        target.put_single(first)
        return
    head: list[Part] = [first, second]
    del first, second  # held by `head` only, so each is dropped once sent
    ChunkedUpload(target, concurrency).send_all(_drain(head, chunks))


def _drain(head: list[Part], rest: Iterator[Part]) -> Iterator[Part]:
    """The parts in order, none referenced here once handed on (memory: ~two parts)."""
    while head:
        yield head.pop(0)
    yield from rest


def read_chunks(
    stream: IO[bytes],
    size: int,
    expected: int | None = None,
    rules: PartRules | None = None,
) -> Iterator[bytes | bytearray]:
    """Yield ``stream`` in parts of ``size`` bytes (the last may be shorter).

    No part is referenced here once the next one is being read. ``expected`` (the
    content's size, if known) sizes the first buffer: a 1 KiB file needs no zero-filled
    5 MiB one. Of unknown size, parts grow as ``rules`` say (:meth:`PartRules.nth_size`).
    """
    rules = rules or PartRules()
    first = size if expected is None else min(size, expected + 1)
    number = 1
    while True:
        chunk = _read_exactly(stream, first)
        if first < size and len(chunk) == first:  # longer than expected: a whole part
            chunk += _read_exactly(stream, size - first)
        if not chunk:
            return
        last = len(chunk) < max(first, size)
        yield chunk
        del chunk
        if last:
            return
        number += 1
        first = size if expected is not None else rules.nth_size(size, number)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | bytearray:
    """Read ``size`` bytes (fewer only at the end), into one buffer where possible."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        chunks: list[bytes] = []
        got = 0
        while got < size and (more := stream.read(size - got)):
            chunks.append(more)
            got += len(more)
        return b"".join(chunks)
    buffer = bytearray(size)  # an SDK sends a bytearray as is: no copy of the part
    got = 0
    with memoryview(buffer) as view:
        while got < size and (count := readinto(view[got:])):
            got += count
    if got < size:
        del buffer[got:]
    return buffer


class ChunkedWriter(io.RawIOBase):
    """What ``open(name, "wb")`` writes to: parts are sent as the buffer fills.

    ``commit()`` stores the file (``put_single`` if it never outgrew a part);
    ``close()`` without ``commit()`` aborts, leaving the stored file untouched.
    ``compress`` gzips what is written (deterministic: no time, no name).
    """

    def __init__(
        self,
        target: PartTarget,
        part_size: int,
        *,
        concurrency: int = 1,
        compress: bool = False,
    ) -> None:
        super().__init__()
        self._upload = ChunkedUpload(target, concurrency)
        self._rules = target.rules
        self._part_size = self._rules.part_size(part_size)
        self._sent = 0  # parts sent so far
        self._buffer = bytearray()
        self._written = 0
        self._committed = False
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if compress else None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        view = memoryview(data).cast("B")
        size = len(view)
        self._buffer += self._compressor.compress(view) if self._compressor else view
        self._written += size
        while len(self._buffer) > (part := self._rules.nth_size(self._part_size, self._sent + 1)):
            chunk = self._buffer[:part]  # one part stays back for commit()
            del self._buffer[:part]
            self._send(chunk)
            self._sent += 1
            del chunk
        return size

    def _send(self, data: bytearray) -> None:
        try:
            self._upload.send(data)
        except BaseException:
            self.close()
            raise

    def tell(self) -> int:
        return self._written

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Only "where am I" seeks (StorageFile.size asks for the end) are possible.
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._written + offset}.get(whence)
        if (whence == io.SEEK_END and offset == 0) or target == self._written:
            return self._written
        raise io.UnsupportedOperation("an upload stream cannot seek")

    def commit(self) -> None:
        """Store what was written; raise (after aborting) if the provider refuses it."""
        if self._compressor:
            self._buffer += self._compressor.flush()
        try:
            if not self._upload.started:
                self._upload.target.put_single(self._buffer)
            else:
                if self._buffer:
                    self._upload.send(self._buffer)
                self._upload.commit()
            self._committed = True
        finally:
            self._buffer = bytearray()
            self.close()

    def close(self) -> None:
        if not self.closed and not self._committed:
            self._buffer = bytearray()
            self._upload.abort()
        super().close()


class ChunkedUploads:
    """``_write`` and ``_open_writer`` of a storage whose uploads go in parts.

    List it before ``BaseStorage``; implement ``_part_target(request)``. A stream's
    parts are buffered (memory: about ``stream_concurrency + 2`` parts); a file on
    disk's are read where they lie, so it gets more of them in flight.
    """

    stream_part_size: ClassVar[int] = 8 * 1024 * 1024
    stream_concurrency: ClassVar[int] = 4
    file_part_size: ClassVar[int] = 8 * 1024 * 1024
    file_concurrency: ClassVar[int] = 10

    def _part_target(self, request: WriteRequest) -> PartTarget:
        """The provider's requests for one upload of ``request`` (a new target each time)."""
        raise NotImplementedError

    def _part_size(self, on_disk: bool) -> int:
        """The part size wanted (the target's rules adjust it); override to read options."""
        return self.file_part_size if on_disk else self.stream_part_size

    def _concurrency(self, on_disk: bool) -> int:
        """Parts in flight at once (the target's ``max_in_flight`` caps it)."""
        return self.file_concurrency if on_disk else self.stream_concurrency

    def _write(self, request: WriteRequest) -> None:
        """One request up to a part, else a bounded-memory upload of parts."""
        self._send_parts(self._part_target(request), request)

    def _send_parts(self, target: PartTarget, request: WriteRequest) -> None:
        """Send ``request`` through ``target`` (for a ``_write`` that keeps the target)."""
        upload(
            target,
            request.content,
            size=request.size,
            part_size=self._part_size(on_disk=False),
            concurrency=self._concurrency(on_disk=False),
            source=request.source,
            file_part_size=self._part_size(on_disk=True),
            file_concurrency=self._concurrency(on_disk=True),
        )

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        """A streaming writer for ``open(name, "wb")``: parts are sent as it fills."""
        writer = ChunkedWriter(
            self._part_target(request),
            self._part_size(on_disk=False),
            concurrency=self._concurrency(on_disk=False),
            compress=request.compress,
        )
        return cast(IO[bytes], writer)
