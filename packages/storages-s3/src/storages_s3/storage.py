"""``S3Storage``: Amazon S3 and S3-compatible services for Django.

Thin on purpose: the Django API, names, overwrite policy, content types, gzip and
file objects come from :class:`storages_base.BaseStorage`; this class maps its
key-level hooks onto S3 requests, one request per operation where S3 allows it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured

from storages_base import (
    AlreadyExistsError,
    BaseStorage,
    Capabilities,
    Stat,
    StorageError,
    WriteRequest,
    client_property,
)
from storages_base.chunked import ChunkedUploads
from storages_base.content import gzip_original_size
from storages_base.manifest import ManifestFilesMixin
from storages_base.signed_urls import reuse_window
from storages_base.uploads import DirectUploads

from .client import build_client, build_resource, build_session, is_aws_endpoint
from .errors import code_of, is_missing, require, s3_errors, status_of
from .files import MIN_PART_SIZE, UNCOMPRESSED_SIZE, S3File, S3Parts, body_of
from .options import REBUILT_IN_MIGRATIONS, S3_OPTIONS
from .uploads import presigned_upload
from .urls import S3UrlBuilder

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

__all__ = ["S3ManifestStaticStorage", "S3StaticStorage", "S3Storage"]

#: Object parameters a read must repeat (SSE-C keys, requester pays).
_READ_PARAMETERS = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer")
logger = logging.getLogger(__name__)


class S3Storage(DirectUploads, ChunkedUploads, BaseStorage):
    """Files in an S3 bucket (``STORAGES = {"default": {"BACKEND": "storages_s3.S3Storage"}}``)."""

    backend_name = "s3"
    sign_upload = presigned_upload  # storages_base.uploads.DirectUploads
    options = S3_OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True,
        idempotent_create=True,
        ranged_reads=True,
        signed_urls=True,
        http_urls=True,
    )
    max_key_length = 1024
    rebuilt_in_migrations = REBUILT_IN_MIGRATIONS
    # ChunkedUploads' defaults: a file on disk is sent in 8 MiB parts read where they lie,
    # 10 in flight (s3transfer's); a stream in parts of file_buffer_size, 4 in flight.

    access_key: str | None
    secret_key: str | None
    security_token: str | None
    session_profile: str | None
    bucket_name: str
    object_parameters: dict[str, Any]
    default_acl: str | None
    querystring_auth: bool
    querystring_expire: int
    url_reuse_window: int | None
    signature_version: str | None
    addressing_style: str | None
    custom_domain: str | None
    url_protocol: str
    cloudfront_key_id: str | None
    cloudfront_key: bytes | str | None
    cloudfront_signer: Any
    endpoint_url: str | None
    conditional_writes: bool
    region_name: str | None
    use_ssl: bool
    verify: bool | str | None
    proxies: dict[str, str] | None
    client_config: Any
    transfer_config: Any
    use_threads: bool
    gzip: bool
    gzip_content_types: tuple[str, ...]
    file_buffer_size: int
    file_name_charset: str

    def configure(self) -> None:
        super().configure()
        if self.session_profile and (self.access_key or self.secret_key):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: set either session_profile or access_key/secret_key, "
                "not both."
            )
        legacy = getattr(type(self), "config", None)  # django-storages' deprecated class attr
        if self.client_config is None and legacy is not None:
            self.client_config = legacy
        self.object_parameters = dict(self.object_parameters or {})
        if self.conditional_writes is None:  # trusted where known: Amazon S3 itself
            self.conditional_writes = is_aws_endpoint(self.endpoint_url)
        self.conditional_writes = bool(self.conditional_writes)
        self.url_protocol = self.url_protocol or "https:"
        self.url_reuse_window = reuse_window(
            self.url_reuse_window,
            int(self.querystring_expire),
            setting="AWS_QUERYSTRING_REUSE_WINDOW",
            expire_setting="AWS_QUERYSTRING_EXPIRE",
        )

    session = client_property(build_session)
    client = client_property(build_client)
    file_class = S3File

    # -- the SDK escape hatch: django-storages' attributes, built on first use ---------------

    _resources = client_property(lambda self: threading.local())

    @property
    def connection(self) -> Any:
        """A boto3 S3 *resource* with this storage's credentials, endpoint and config, one
        per thread (resources are not thread-safe), as django-storages' ``connection``."""
        local = self._resources
        resource = getattr(local, "resource", None)
        if resource is None:
            resource = local.resource = build_resource(self)
        return resource

    @property
    def bucket(self) -> Any:
        """The boto3 ``s3.Bucket`` of ``bucket_name`` (this thread's resource; no request)."""
        if self._unconfigured:
            self._refuse_unconfigured()
        return self.connection.Bucket(self.bucket_name)

    url_builder = client_property(lambda self: S3UrlBuilder.for_storage(self))

    # -- parameters ----------------------------------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Return the PutObject parameters of ``name``; override for per-file values."""
        return self.object_parameters.copy()

    def get_write_parameters(self, name: str, content: Any) -> dict[str, Any]:
        parameters = self.get_object_parameters(name)
        if self.default_acl and "ACL" not in parameters:
            parameters["ACL"] = self.default_acl
        if "ContentType" in parameters:
            parameters["content_type"] = parameters.pop("ContentType")
        if "ContentEncoding" in parameters:
            parameters["content_encoding"] = parameters.pop("ContentEncoding")
        return parameters

    def _read_parameters(self, key: str) -> dict[str, Any]:
        parameters = self.get_object_parameters(self._name_for_key(key))
        return {k: parameters[k] for k in _READ_PARAMETERS if k in parameters}

    def _put_parameters(self, request: WriteRequest) -> dict[str, Any]:
        parameters = {**request.parameters, "ContentType": request.content_type}
        if request.content_encoding:
            parameters["ContentEncoding"] = request.content_encoding
        return parameters

    # -- reading -------------------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        """GET the object from ``offset``: one request gives the stream and its stat."""
        params: dict[str, Any] = {"Bucket": self.bucket_name, "Key": key}
        params.update(self._read_parameters(key))
        if offset:
            params["Range"] = f"bytes={offset}-"
        try:
            with s3_errors("open", self._name_for_key(key), self.bucket_name):
                response = self.client.get_object(**params)
        except StorageError as exc:
            if offset and _is_invalid_range(exc.__cause__):
                return io.BytesIO(b""), None  # at or past the end: nothing left to read
            raise
        require(response, "ContentLength", "open", self._name_for_key(key))
        stat = _stat_from(response, response.get("ContentRange"))
        if stat.content_encoding == "gzip":  # read() decompresses: report that size
            stat = self._gzip_stat(key, stat, response.get("Metadata"))
        etag = response.get("ETag")

        def reopen(skip: int) -> Any:  # the rest of the same object, after a dropped read
            rest = {**params, "Range": f"bytes={offset + skip}-"}
            rest.update({"IfMatch": etag} if etag else {})
            with s3_errors("open", self._name_for_key(key), self.bucket_name):
                return self.client.get_object(**rest)["Body"]

        return body_of(response, self._name_for_key(key), not offset, reopen), stat

    def _gzip_stat(self, key: str, stat: Stat, metadata: dict[str, str] | None) -> Stat:
        """The stat of a gzipped file, sized as ``open().read()`` returns it (decompressed)."""
        size = (metadata or {}).get(UNCOMPRESSED_SIZE)
        return replace(
            stat,
            size=int(size) if size and size.isdigit() else self._gzip_size_from_trailer(key),
        )

    def _gzip_size_from_trailer(self, key: str) -> int:
        # A gzip stream ends with its decompressed size (mod 2**32); one small GET.
        with s3_errors("stat", self._name_for_key(key), self.bucket_name):
            response = self.client.get_object(
                Bucket=self.bucket_name, Key=key, Range="bytes=-4", **self._read_parameters(key)
            )
        return gzip_original_size(response["Body"].read())

    def _head(self, key: str, operation: str) -> HeadObjectOutputTypeDef:
        with s3_errors(operation, self._name_for_key(key), self.bucket_name):
            response = self.client.head_object(
                Bucket=self.bucket_name, Key=key, **self._read_parameters(key)
            )
        require(response, "ContentLength", operation, self._name_for_key(key))
        return response

    def _stat(self, key: str) -> Stat:
        response = self._head(key, "stat")
        stat = _stat_from(response)
        if stat.content_encoding == "gzip":
            return self._gzip_stat(key, stat, response.get("Metadata"))
        return stat

    def _exists(self, key: str) -> bool:
        """Real existence: 404 is False; 403 raises, naming the missing permission.

        The 404 is read off botocore's error, not raised again as ``FileNotFoundError``
        and caught: a missing name is the common answer (11 us of exceptions less).
        """
        name = self._name_for_key(key)
        with s3_errors("exists", name, self.bucket_name):
            try:
                response = self.client.head_object(
                    Bucket=self.bucket_name, Key=key, **self._read_parameters(key)
                )
            except ClientError as exc:
                if is_missing(exc):
                    return False
                raise
        require(response, "ContentLength", "exists", name)
        return True

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: list[str] = []
        files: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        with s3_errors("listdir", prefix, self.bucket_name):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix, Delimiter="/"):
                require(page, "Name", "listdir", prefix)
                for common in page.get("CommonPrefixes", ()):
                    folders.append(common["Prefix"][len(prefix) :].rstrip("/"))
                for item in page.get("Contents", ()):
                    rest = item["Key"][len(prefix) :]
                    if rest:  # the "folder/" marker object itself is not a file
                        files.append(rest)
        return folders, files

    def _same_content(self, stat: Stat, data: bytes) -> bool:
        """An object uploaded in one part without KMS has the MD5 of its bytes as ETag."""
        etag = (stat.etag or "").strip('"')
        return len(etag) == 32 and etag == hashlib.md5(data, usedforsecurity=False).hexdigest()

    def _scan(self, prefix: str) -> Iterator[tuple[str, Stat]]:
        """Every object under ``prefix``: one request per 1,000 (``preload_metadata``)."""
        paginator = self.client.get_paginator("list_objects_v2")
        with s3_errors("listdir", prefix, self.bucket_name):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
                require(page, "Name", "listdir", prefix)
                for item in page.get("Contents", ()):
                    modified, etag = item["LastModified"], item.get("ETag")
                    yield item["Key"], Stat(size=item["Size"], modified=modified, etag=etag)

    # -- writing -------------------------------------------------------------------------

    def _write(self, request: WriteRequest) -> None:
        """ChunkedUploads' write, keeping the MD5 a single PutObject sent (_is_own_write).

        A create-only write to a server not trusted with ``If-None-Match``
        (``conditional_writes`` False) is confirmed first: a HEAD says the name is free,
        under a lock per name, so this process's saves never replace each other even on
        a server that ignores the header (s3rver does); the write keeps the header.
        """
        if request.exclusive and not self.conditional_writes:
            with self._create_locks.hold(request.key):
                self._refuse_taken(request.key)
                self._upload(request)
        else:
            self._upload(request)

    def _upload(self, request: WriteRequest) -> None:
        parts = self._part_target(request)
        try:
            self._send_parts(parts, request)
        finally:
            request.sent_md5 = parts.sent_md5

    def _refuse_taken(self, key: str) -> None:
        if self._exists(key):
            raise AlreadyExistsError(
                "File exists", name=self._name_for_key(key), operation="save", backend="s3"
            )

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        """ChunkedUploads' streaming writer; a create-only one on a server not trusted
        with ``If-None-Match`` confirms that the name is free when it opens."""
        if request.exclusive and not self.conditional_writes:
            self._refuse_taken(request.key)
        return super()._open_writer(request)

    def _is_own_write(self, request: WriteRequest, error: AlreadyExistsError) -> bool:
        """Whether a PutObject that botocore sent again (its response lost) met itself.

        Evidence, both needed: botocore retried the request that got 412, and the object
        has the ETag of the bytes we sent (the MD5 of one PutObject's body without KMS).
        A multipart upload is not recognised (another clash, another name, as before).
        """
        cause = error.__cause__
        if request.sent_md5 is None or not isinstance(cause, ClientError):
            return False
        if not cause.response.get("ResponseMetadata", {}).get("RetryAttempts"):
            return False  # refused at the first attempt: somebody else's object
        try:
            etag = self._head(request.key, "save").get("ETag", "")
        except FileNotFoundError:
            return False
        return etag.strip('"') == request.sent_md5

    def _part_target(self, request: WriteRequest) -> S3Parts:
        """The S3 requests of one upload, with the request's parameters."""
        return S3Parts(
            self.client,
            self.bucket_name,
            request.key,
            self._put_parameters(request),
            name=self._name_for_key(request.key),
            # Declared or found without conditional writes: the name was checked before.
            exclusive=request.exclusive and self.capabilities.conditional_create,
            on_condition_refused=lambda: self._condition_refused(request.key),
            content_md5=self._sends_md5,
        )

    @property
    def _sends_md5(self) -> bool:
        """Whether uploads carry Content-MD5: when botocore sends no checksum itself."""
        config = self.client.meta.config
        return getattr(config, "request_checksum_calculation", None) == "when_required"

    def _condition_refused(self, key: str) -> None:
        """The server refuses ``If-None-Match``: check first, from now on and this time."""
        if self.capabilities.conditional_create:
            logger.warning(
                "%s refuses conditional writes (If-None-Match); no-overwrite saves of this "
                "storage now check for a free name first.",
                self.endpoint_url or "S3",
            )
            setattr(self, "capabilities", replace(self.capabilities, conditional_create=False))  # noqa: B010
        self._refuse_taken(key)

    def _part_size(self, on_disk: bool) -> int:
        """``transfer_config``'s part size, else ``file_buffer_size`` for a stream; S3's
        rules (``files.s3_rules``) raise it to 5 MiB and to fit 10,000 parts."""
        configured = getattr(self.transfer_config, "multipart_chunksize", None)
        default = self.file_part_size if on_disk else self.file_buffer_size
        return int(configured or default or MIN_PART_SIZE)

    def _concurrency(self, on_disk: bool) -> int:
        """Parts in flight at once (``transfer_config.max_concurrency`` if set)."""
        config = self.transfer_config
        if not self.use_threads or (config is not None and not config.use_threads):
            return 1
        if config is not None:
            return max(1, int(config.max_concurrency))
        return super()._concurrency(on_disk)

    def _delete(self, key: str) -> None:
        """DeleteObject: S3 answers 204 for a missing key, other servers 404 (quiet too)."""
        with s3_errors("delete", self._name_for_key(key), self.bucket_name):
            self.client.delete_object(Bucket=self.bucket_name, Key=key)

    # -- URLs ----------------------------------------------------------------------------

    def url(
        self,
        name: str | None,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """Return the URL of ``name``: django-storages' signature, positional arguments too.

        ``parameters`` go into the signed request (``ResponseContentDisposition``...),
        ``expire`` (seconds) overrides ``querystring_expire``, ``http_method`` signs
        another method than GET. No network request.
        """
        return self._object_url(self._key(name or ""), parameters, expire, http_method)

    def _object_url(  # the arguments S3's url() takes, by name
        self,
        key: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        return self.url_builder.url(
            key, parameters=parameters, expire=expire, http_method=http_method
        )


def _stat_from(response: Any, content_range: str | None = None) -> Stat:
    size = int(response.get("ContentLength") or 0)
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        size = int(total) if total.isdigit() else size
    return Stat(
        size=size,
        modified=response.get("LastModified"),
        etag=response.get("ETag"),
        content_type=response.get("ContentType"),
        content_encoding=response.get("ContentEncoding"),
    )


def _is_invalid_range(exc: BaseException | None) -> bool:
    return isinstance(exc, ClientError) and (
        status_of(exc) == 416 or code_of(exc) == "InvalidRange"
    )


class S3StaticStorage(S3Storage):
    """For static files: public, unsigned URLs (``querystring_auth = False``).

    ``collectstatic`` learns which files exist, and when they changed, from one listing
    per 1,000 files instead of two requests per file (``preload_metadata``), and uploads
    its copies on 8 threads (``batch_concurrency``: with ``storages_base``'s collectstatic
    command, or inside ``with storage.batch()``).
    """

    querystring_auth = False
    preload_metadata = True
    batch_concurrency = 8


class S3ManifestStaticStorage(ManifestFilesMixin, S3StaticStorage):  # type: ignore[misc]
    """Static files with hashed names and a manifest (Django's ManifestStaticFilesStorage)."""
