"""S3's part of chunked uploads: the requests a multipart upload is made of.

The engine (parts read as they are sent, a few in flight, bounded memory, abort on any
failure, part sizes grown for streams of unknown size, the streaming writer) is
:mod:`storages_base.chunked`; :class:`S3Parts` is what it calls: ``PutObject`` for a
file of one part, else ``CreateMultipartUpload``, ``UploadPart`` (SSE-C parameters
repeated, checksums kept), ``CompleteMultipartUpload`` (``If-None-Match: *`` when
exclusive) and ``AbortMultipartUpload``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storages_base import chunked
from storages_base.chunked import Part, PartRules, PartTarget, part_size_for
from storages_base.content import gzip_original_size
from storages_base.errors import StorageError
from storages_base.files import StorageFile

from .errors import refuses_condition, s3_errors

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["MAX_PARTS", "MIN_PART_SIZE", "S3File", "S3Parts", "part_size_for", "s3_rules"]

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
    ) -> None:
        self.client, self.bucket, self.key, self.name = client, bucket, key, name
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
        if self.exclusive:
            self.sent_md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self._create_only(
            self.client.put_object, Bucket=self.bucket, Key=self.key, Body=data, **parameters
        )

    def begin(self) -> None:
        with s3_errors("save", self.name, self.bucket):
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.parameters
            )
        self.upload_id = created["UploadId"]

    def send_part(self, number: int, data: Part) -> dict[str, Any]:
        with s3_errors("save", self.name, self.bucket):
            response = self.client.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,  # type: ignore[arg-type]
                PartNumber=number,
                Body=data,  # type: ignore[arg-type]  # a bytearray is sent as is
                **self.part_parameters,
            )
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        part.update({k: response[k] for k in _CHECKSUMS if response.get(k)})  # type: ignore[literal-required]
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


class S3File(StorageFile):
    """What ``S3Storage.open()`` returns; ``obj`` is django-storages' escape hatch."""

    @property
    def obj(self) -> Any:
        """The boto3 ``s3.Object`` of this file (from ``storage.bucket``, this thread's
        resource; no request until it is used), for what the Django API does not say."""
        return self._storage.bucket.Object(self._key)  # type: ignore[attr-defined]
