"""Streaming uploads (multipart with bounded memory) and gzip-decoding reads.

A file up to the part size is one PutObject. A larger one is a multipart upload
whose parts are sent as they fill, so memory holds at most ``concurrency + 1``
parts whatever the file's size; any failure aborts the upload, so no invisible,
billed, incomplete upload is left behind.
"""

from __future__ import annotations

import io
import logging
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from storages_base.errors import StorageError

from .errors import refuses_condition, s3_errors

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["MultipartUpload", "S3Writer", "part_size_for", "read_chunks"]

#: S3 refuses parts under 5 MiB (except the last) and more than 10,000 parts.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
#: A stream of unknown size doubles its part size every this many parts, so 10,000
#: parts of 5 MiB upward hold about 4.9 TiB (S3's largest object is 5 TiB) instead of
#: failing at 48 GiB; memory grows with the part size only on such long streams.
PARTS_PER_SIZE = 1_000


#: A part's body: bytes in memory, or a part of a file on disk read as it is sent.
Part = bytes | bytearray | io.RawIOBase


def part_size_for(base: int, number: int) -> int:
    """The size of part ``number`` (from 1) of an upload whose total size is unknown."""
    return base << min((number - 1) // PARTS_PER_SIZE, 9)


#: Parameters that UploadPart takes too (SSE-C keys must repeat on every part).
_PART_PARAMETERS = frozenset(
    {
        "SSECustomerAlgorithm",
        "SSECustomerKey",
        "SSECustomerKeyMD5",
        "RequestPayer",
        "ExpectedBucketOwner",
        "ChecksumAlgorithm",
    }
)


def read_chunks(
    stream: IO[bytes], size: int, expected: int | None = None
) -> Iterator[bytes | bytearray]:
    """Yield ``stream`` in chunks of exactly ``size`` bytes (the last may be shorter).

    No chunk is referenced here once the next one is being read, so memory holds the
    chunk being read and the one being sent, never more. ``expected`` (the content's
    size, if known) sizes the first buffer: a 1 KiB file needs no zero-filled 5 MiB one.
    """
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
        first = size if expected is not None else part_size_for(size, number)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | bytearray:
    """Read ``size`` bytes (fewer only at the end), into one buffer where possible."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        parts: list[bytes] = []
        got = 0
        while got < size and (more := stream.read(size - got)):
            parts.append(more)
            got += len(more)
        return b"".join(parts)
    buffer = bytearray(size)  # botocore sends a bytearray as is: no copy of the part
    got = 0
    with memoryview(buffer) as view:
        while got < size and (count := readinto(view[got:])):
            got += count
    if got < size:
        del buffer[got:]
    return buffer


class MultipartUpload:
    """One multipart upload: created on the first part, completed or aborted once."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        parameters: dict[str, Any],
        *,
        name: str,
        exclusive: bool = False,
        concurrency: int = 1,
        on_condition_refused: Callable[[], None] | None = None,
    ) -> None:
        self.client, self.bucket, self.key, self.name = client, bucket, key, name
        self.on_condition_refused = on_condition_refused
        self.parameters = parameters
        self.part_parameters = {k: v for k, v in parameters.items() if k in _PART_PARAMETERS}
        self.exclusive = exclusive
        self.upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._futures: list[Future[dict[str, Any]]] = []
        self._concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None  # only a multipart upload makes one
        self._slots = threading.BoundedSemaphore(concurrency)

    def send(self, data: Part) -> None:
        """Upload ``data`` as the next part (from a worker thread when concurrent)."""
        if self.upload_id is None:
            with s3_errors("save", self.name, self.bucket):
                created = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, **self.parameters
                )
            self.upload_id = created["UploadId"]
            if self._concurrency > 1:
                self._pool = ThreadPoolExecutor(self._concurrency, "storages-s3-upload")
        number = len(self._parts) + len(self._futures) + 1
        if self._pool is None:
            self._parts.append(self._upload_part(number, data))
            return
        self._raise_failed()
        self._slots.acquire()  # at most `concurrency` parts in memory and in flight
        self._futures.append(self._pool.submit(self._upload_part, number, data, True))

    def send_all(self, parts: Iterable[Part]) -> None:
        """Upload every part and complete; abort on any failure."""
        try:
            for part in parts:
                self.send(part)
            self.complete()
        except BaseException:
            self.abort()
            raise

    def _upload_part(self, number: int, data: Part, pooled: bool = False) -> dict[str, Any]:
        try:
            with s3_errors("save", self.name, self.bucket):
                response = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,  # type: ignore[arg-type]
                    PartNumber=number,
                    Body=data,  # type: ignore[arg-type]  # a bytearray is sent as is
                    **self.part_parameters,
                )
        finally:
            if pooled:
                self._slots.release()
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        for checksum in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256"):
            if response.get(checksum):
                part[checksum] = response[checksum]
        return part

    def _raise_failed(self) -> None:
        for future in self._futures:
            if future.done() and future.exception() is not None:
                future.result()

    def complete(self) -> None:
        """Wait for the parts and complete the upload (conditionally when exclusive)."""
        parts: list[Any] = self._parts + [future.result() for future in self._futures]
        self._close_pool()
        self._create_only(
            self.client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": sorted(parts, key=lambda p: p["PartNumber"])},
            **{k: v for k, v in self.part_parameters.items() if k.startswith("SSE")},
        )
        self.upload_id = None

    def _create_only(self, request: Callable[..., Any], **kwargs: Any) -> None:
        """Send the request that makes the object, with ``If-None-Match: *`` if exclusive.

        A server that refuses the header (501 NotImplemented) gets the request again
        without it, after ``on_condition_refused`` has checked the name is still free.
        """
        extra = {"IfNoneMatch": "*"} if self.exclusive else {}
        try:
            with s3_errors("save", self.name, self.bucket, exclusive=self.exclusive):
                request(**kwargs, **extra)
        except StorageError as exc:
            if not extra or self.on_condition_refused is None:
                raise
            if not refuses_condition(exc.__cause__):
                raise
            self.on_condition_refused()  # raises AlreadyExistsError if the name is taken
            with s3_errors("save", self.name, self.bucket):
                request(**kwargs)

    def abort(self) -> None:
        """Abandon the upload: S3 drops the parts already sent."""
        self._close_pool(cancel=True)
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        try:
            with s3_errors("abort", self.name, self.bucket):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=upload_id
                )
        except FileNotFoundError:
            pass  # already gone
        except StorageError as exc:  # the error that made us abort matters more
            logger.warning(
                "Could not abort multipart upload %s of %r (a bucket lifecycle rule "
                "can clean it up): %s",
                upload_id,
                self.key,
                exc,
            )

    def _close_pool(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


class S3Writer(io.RawIOBase):
    """What ``open(name, "wb")`` writes to: parts are uploaded as the buffer fills.

    ``commit()`` stores the file (one PutObject if it never outgrew a part);
    ``close()`` without ``commit()`` aborts, leaving the old object untouched.
    """

    def __init__(
        self,
        upload: MultipartUpload,
        part_size: int,
        *,
        compress: bool = False,
    ) -> None:
        super().__init__()
        self._upload = upload
        self._part_size = part_size
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
        while len(self._buffer) > (part_size := part_size_for(self._part_size, self._sent + 1)):
            part = self._buffer[:part_size]  # one part stays back for commit()
            del self._buffer[:part_size]
            self._send(part)
            self._sent += 1
            del part
        return size

    def _send(self, data: bytes | bytearray) -> None:
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
        raise io.UnsupportedOperation("an S3 upload stream cannot seek")

    def commit(self) -> None:
        """Store what was written; raise (after aborting) if S3 refuses it."""
        if self._compressor:
            self._buffer += self._compressor.flush()
        try:
            if self._upload.upload_id is None:
                put_object(self._upload, self._buffer)
            else:
                if self._buffer:
                    self._upload.send(self._buffer)
                self._upload.complete()
            self._committed = True
        finally:
            self._buffer = bytearray()
            self.close()

    def close(self) -> None:
        if not self.closed and not self._committed:
            self._buffer = bytearray()
            self._upload.abort()
        super().close()


def put_object(upload: MultipartUpload, body: bytes | bytearray) -> None:
    """Store ``body`` in one PutObject with the upload's parameters."""
    upload._create_only(
        upload.client.put_object,
        Bucket=upload.bucket,
        Key=upload.key,
        Body=body,
        **upload.parameters,
    )
    upload._close_pool()
