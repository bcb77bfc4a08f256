"""S3's part of chunked uploads: the requests a multipart upload is made of.

The engine (parts read as they are sent, a few in flight, bounded memory, abort on any
failure, part sizes grown for streams of unknown size, the streaming writer) is
:mod:`storages_base.chunked`; :class:`S3Parts` is what it calls: ``PutObject`` for a
file of one part, else ``CreateMultipartUpload``, ``UploadPart`` (SSE-C parameters
repeated, checksums kept), ``CompleteMultipartUpload`` (``If-None-Match: *`` when
exclusive) and ``AbortMultipartUpload``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from storages_base import chunked
from storages_base.chunked import Part, PartRules, PartTarget, part_md5, part_size_for
from storages_base.content import gzip_original_size
from storages_base.errors import IntegrityError, StorageError, TransientError
from storages_base.files import StorageFile
from storages_base.verified import VerifiedStream

from .errors import refuses_condition, require, s3_errors

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "S3Body",
    "S3File",
    "S3Parts",
    "body_of",
    "md5_etag",
    "part_size_for",
    "s3_rules",
]

#: S3 refuses parts under 5 MiB (except the last), over 5 GiB, and more than 10,000.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS = 10_000
#: A stream of unknown size doubles its part size every this many parts (see chunked).
PARTS_PER_SIZE = chunked.PARTS_PER_SIZE

#: Metadata key holding a gzipped file's decompressed size (what read() returns).
UNCOMPRESSED_SIZE = "uncompressed-size"

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
_CHECKSUMS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256")
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
#: Times a download picks up again after its connection dropped mid-body.
RESUMES = 2


def md5_etag(response: Any) -> str | None:
    """The MD5 of the bytes the server holds, from a response's ETag, where it is one.

    The ETag of an object (or a part) sent in one request is the MD5 of its bytes, except
    under SSE-KMS or SSE-C and for a multipart object (``"<hex>-<parts>"``): None then.
    """
    if str(response.get("ServerSideEncryption") or "").startswith("aws:kms"):
        return None
    if response.get("SSECustomerAlgorithm"):
        return None
    etag = str(response.get("ETag") or "").strip('"').lower()
    return etag if _MD5_HEX.fullmatch(etag) else None


def s3_rules() -> PartRules:
    """S3's part rules (read when an upload starts, so tests can shorten the growth)."""
    return PartRules(MIN_PART_SIZE, MAX_PART_SIZE, MAX_PARTS, grow_every=PARTS_PER_SIZE)


class S3Parts(PartTarget):
    """One object's upload, as the requests S3 takes (one instance per upload)."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        parameters: dict[str, Any],
        *,
        name: str,
        exclusive: bool = False,
        on_condition_refused: Callable[[], None] | None = None,
        content_md5: bool = False,
    ) -> None:
        self.client, self.bucket, self.key, self.name = client, bucket, key, name
        #: Send Content-MD5 with every body and check the ETag the server answers: set
        #: when botocore sends no checksum of its own (``when_required``, any non-AWS
        #: endpoint by default), so a corrupted upload is refused, never stored.
        self.content_md5 = content_md5
        self.parameters = parameters
        self.part_parameters = {k: v for k, v in parameters.items() if k in _PART_PARAMETERS}
        self.exclusive = exclusive
        self.on_condition_refused = on_condition_refused
        self.upload_id: str | None = None
        self.rules = s3_rules()
        #: The MD5 of a create-only PutObject's body: the ETag the object gets, by which
        #: a PutObject botocore resent after a lost response recognises its own object.
        self.sent_md5: str | None = None

    def put_single(self, data: bytes | bytearray) -> None:
        """One PutObject; a gzipped body records its decompressed size for ``size()``."""
        parameters = self.parameters
        if parameters.get("ContentEncoding") == "gzip" and len(data) >= 18:
            size = str(gzip_original_size(data))
            metadata = {**parameters.get("Metadata", {}), UNCOMPRESSED_SIZE: size}
            parameters = {**parameters, "Metadata": metadata}
        digest = part_md5(data) if self.exclusive or self.content_md5 else None
        if self.exclusive and digest is not None:
            self.sent_md5 = digest.hex()
        if not self.content_md5 or digest is None:
            self._create_only(
                self.client.put_object, Bucket=self.bucket, Key=self.key, Body=data, **parameters
            )
            return
        parameters = {**parameters, "ContentMD5": base64.b64encode(digest).decode()}
        put, where = self.client.put_object, {"Bucket": self.bucket, "Key": self.key}
        try:
            self._intact(
                digest,
                lambda: self._create_only(put, **where, Body=data, **parameters),
                # A create-only put is not sent again: its own corrupt object refuses it.
                attempts=1 if self.exclusive else 2,
            )
        except _Corrupted as exc:
            self._delete_corrupt(exc.stored)
            raise exc.error from None

    def _intact(self, digest: bytes, send: Callable[[], Any], attempts: int, part: int = 0) -> Any:
        """Send a body with its Content-MD5 until the server holds those bytes (``attempts``).

        A server that verifies Content-MD5 (S3, MinIO, R2) refuses a body corrupted on the
        way (BadDigest); one that does not (s3rver, moto) stores it, and its ETag says so.
        Either way the body is sent once more; then :class:`IntegrityError`.
        """
        error: IntegrityError | _Corrupted | None = None
        for _ in range(attempts):
            try:
                response = send()
            except IntegrityError as exc:  # BadDigest: refused, nothing stored
                error = exc
                continue
            stored = md5_etag(response)
            if stored is None or stored == digest.hex():
                return response
            error = _Corrupted(stored, self._mismatch(stored, digest, part))
        assert error is not None
        raise error

    def _delete_corrupt(self, stored: str) -> None:
        """Delete the object a non-verifying server stored corrupted, if it is still it."""
        try:
            with s3_errors("save", self.name, self.bucket):
                self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=f'"{stored}"')
        except StorageError:
            pass  # replaced meanwhile, or already gone: not ours to delete

    def _mismatch(self, stored: str, digest: bytes, part: int = 0) -> IntegrityError:
        what = f"part {part}" if part else "the file"
        return IntegrityError(
            f"S3 stored {what} with MD5 {stored}, the bytes sent have MD5 {digest.hex()}: "
            "corrupted on the way, not saved",
            name=self.name,
            operation="save",
            backend="s3",
        )

    def begin(self) -> None:
        with s3_errors("save", self.name, self.bucket):
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.parameters
            )
        require(created, "UploadId", "save", self.name)
        self.upload_id = created["UploadId"]

    def send_part(self, number: int, data: Part) -> dict[str, Any]:
        """UploadPart; with ``content_md5``, a part stored with other bytes fails the upload
        (the engine then aborts it: nothing is stored)."""
        parameters = self.part_parameters
        digest = part_md5(data) if self.content_md5 else None
        if digest is not None:
            parameters = {**parameters, "ContentMD5": base64.b64encode(digest).decode()}

        def send() -> Any:
            if not isinstance(data, (bytes, bytearray)):
                data.seek(0)  # a part of a file on disk, sent again from its start
            with s3_errors("save", self.name, self.bucket):
                return self.client.upload_part(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,  # type: ignore[arg-type]
                    PartNumber=number,
                    Body=data,  # type: ignore[arg-type]  # a bytearray is sent as is
                    **parameters,
                )

        try:
            response = send() if digest is None else self._intact(digest, send, 2, number)
        except _Corrupted as exc:
            raise exc.error from None
        require(response, "ETag", "save", self.name)
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        part.update({k: response[k] for k in _CHECKSUMS if response.get(k)})
        return part

    def commit(self, tokens: list[Any]) -> None:
        """Complete the upload (conditionally when exclusive)."""
        self._create_only(
            self.client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": tokens},
            **{k: v for k, v in self.part_parameters.items() if k.startswith("SSE")},
        )
        self.upload_id = None

    def abort(self) -> None:
        """Abandon the upload: S3 drops the parts already sent (a lifecycle rule, if not)."""
        upload_id, self.upload_id = self.upload_id, None
        if upload_id is None:
            return
        try:
            with s3_errors("abort", self.name, self.bucket):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=upload_id
                )
        except FileNotFoundError:
            pass  # already gone

    def _create_only(self, request: Callable[..., Any], **kwargs: Any) -> Any:
        """Send the request that makes the object, with ``If-None-Match: *`` if exclusive.

        A server that refuses the header (501 NotImplemented) gets the request again
        without it, after ``on_condition_refused`` has checked the name is still free.
        """
        extra = {"IfNoneMatch": "*"} if self.exclusive else {}
        try:
            with s3_errors("save", self.name, self.bucket, exclusive=self.exclusive):
                return request(**kwargs, **extra)
        except StorageError as exc:
            if not extra or self.on_condition_refused is None:
                raise
            if not refuses_condition(exc.__cause__):
                raise
            self.on_condition_refused()  # raises AlreadyExistsError if the name is taken
            with s3_errors("save", self.name, self.bucket):
                return request(**kwargs)


class S3File(StorageFile):
    """What ``S3Storage.open()`` returns; ``obj`` is django-storages' escape hatch."""

    @property
    def obj(self) -> Any:
        """The boto3 ``s3.Object`` of this file (from ``storage.bucket``, this thread's
        resource; no request until it is used), for what the Django API does not say."""
        return self._storage.bucket.Object(self._key)  # type: ignore[attr-defined]


class _Corrupted(Exception):
    """The server stored other bytes than those sent (``stored``: their MD5)."""

    def __init__(self, stored: str, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.stored, self.error = stored, error


class S3Body(VerifiedStream):
    """A GetObject body as the raw stream storages-base reads, verified as it is read.

    A connection lost mid-body is picked up where it broke (``reopen``: a ranged GET
    If-Match the same ETag), at most :data:`RESUMES` times; other errors while reading
    are raised as storage errors. Given ``md5`` (the object's ETag, see :func:`md5_etag`),
    the bytes are hashed as they pass, across resumes, and checked at the end
    (:class:`~storages_base.verified.VerifiedStream`).
    """

    algorithm = "MD5"

    def __init__(
        self,
        body: Any,
        name: str,
        md5: str | None = None,
        size: int = 0,
        reopen: Callable[[int], Any] | None = None,
    ) -> None:
        hasher = hashlib.md5(usedforsecurity=False) if md5 is not None else None
        super().__init__(name=name, backend="s3", expected=md5, hasher=hasher, size=size)
        self._body = body
        self._reopen = reopen
        self._resumes = RESUMES

    def _fetch(self, size: int) -> bytes:
        while True:
            try:
                with s3_errors("read", self._name, None):
                    return bytes(self._body.read(size))
            except TransientError:
                if not (self._resumes and self._reopen and self._seen < (self._size or 0)):
                    raise
                self._resumes -= 1
                self._body.close()
                self._body = self._reopen(self._seen)

    def _mismatch(self, got: str) -> str:
        return (
            f"the {self._seen} bytes read have MD5 {got}, S3 holds the file with MD5 "
            f"{self._expected} (its ETag): corrupted on the way"
        )

    def _release(self) -> None:
        self._body.close()


def body_of(
    response: Any, name: str, whole: bool, reopen: Callable[[int], Any] | None = None
) -> IO[bytes]:
    """The verified stream of a GetObject response (``whole``: not a range).

    ``reopen(n)`` returns the body from its ``n``-th byte on (for a resume).
    """
    md5 = md5_etag(response) if whole and not _checked_by_botocore(response["Body"]) else None
    size = int(response.get("ContentLength") or 0)
    return S3Body(response["Body"], name, md5, size, reopen)  # type: ignore[return-value]


def _checked_by_botocore(body: Any) -> bool:
    # botocore validates a flexible checksum itself when S3 sent one (ChecksumMode).
    return type(body).__name__ == "StreamingChecksumBody"
