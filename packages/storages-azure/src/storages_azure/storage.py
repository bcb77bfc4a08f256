"""``AzureStorage``: Azure Blob Storage for Django.

Thin on purpose: the Django API, names, overwrite policy, content types, gzip and file
objects come from :class:`storages_base.BaseStorage`; this class maps its key-level
hooks onto blob requests, one request per operation where Azure allows it, and adds
Azure's own name rules (the seed's: no trailing "." or "/", at most 256 slashes, 1,024
characters).
"""

from __future__ import annotations

import io
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.utils.text import get_valid_filename

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
from storages_base.names import ResolvedName
from storages_base.signed_urls import reuse_window
from storages_base.uploads import DirectUploads

from .client import (
    READ_CHUNK_SIZE,
    BlobRef,
    BlobRefs,
    build_container_client,
    build_custom_service_client,
    build_service_client,
    delete_blob,
    get_properties,
    get_range,
    list_level,
    url_account_of,
)
from .errors import azure_errors, code_of, status_of
from .files import (
    MAX_RANGE_MD5,
    UNCOMPRESSED_SIZE,
    WRITE_TOKEN,
    BlockBlobParts,
    DownloadStream,
    check_range,
    checked_when_read,
)
from .options import AZURE_OPTIONS
from .uploads import presigned_upload
from .urls import AzureUrlBuilder

if TYPE_CHECKING:
    from azure.storage.blob import ContentSettings

__all__ = ["AzureManifestStaticStorage", "AzureStaticStorage", "AzureStorage"]

#: Azure's limits on blob names (the seed's "Notes").
MAX_NAME_LENGTH = 1024
MAX_SLASHES = 256
#: ``object_parameters`` keys that are content settings; ``metadata`` is the other one.
CONTENT_SETTINGS = (
    "content_type",
    "content_encoding",
    "content_language",
    "content_disposition",
    "cache_control",
    "content_md5",
)


class AzureStorage(DirectUploads, ChunkedUploads, BaseStorage):
    """Blobs in one Azure container (``storages_azure.AzureStorage``)."""

    backend_name = "azure"
    sign_upload = presigned_upload  # storages_base.uploads.DirectUploads
    options = AZURE_OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True,
        idempotent_create=True,
        ranged_reads=True,
        created_time=True,
        signed_urls=True,
        http_urls=True,
    )
    max_key_length = MAX_NAME_LENGTH
    #: Entries per listing request (None: Azure's 5,000).
    list_page_size: ClassVar[int | None] = None

    account_name: str | None
    account_key: str | None
    connection_string: str | None
    custom_connection_string: str | None
    sas_token: str | None
    token_credential: Any
    azure_container: str
    overwrite_files: bool
    object_parameters: dict[str, Any]
    cache_control: str | None
    expiration_secs: int | None
    url_reuse_window: int | None
    custom_domain: str | None
    azure_ssl: bool
    endpoint_suffix: str
    emulated_mode: bool
    upload_max_conn: int
    timeout: int
    client_options: dict[str, Any]
    api_version: str | None
    gzip: bool
    gzip_content_types: tuple[str, ...]

    def configure(self) -> None:
        super().configure()
        if self.file_overwrite is None:
            self.file_overwrite = bool(self.overwrite_files)
        self.overwrite_files = bool(self.file_overwrite)
        self.object_parameters = dict(self.object_parameters or {})
        self.client_options = dict(self.client_options or {})
        #: Azure sends a range's MD5 for ranges of up to 4 MiB only (our reads' size,
        #: unless AZURE_CLIENT_OPTIONS asks for larger ones).
        self._range_md5 = all(
            int(self.client_options.get(size, READ_CHUNK_SIZE)) <= MAX_RANGE_MD5
            for size in ("max_single_get_size", "max_chunk_get_size")
        )
        #: The first GET of a read asks for this much (the SDK's first range).
        self._first_read = int(self.client_options.get("max_single_get_size", READ_CHUNK_SIZE))
        self._chunk_read = int(self.client_options.get("max_chunk_get_size", READ_CHUNK_SIZE))
        self.upload_max_conn = max(1, int(self.upload_max_conn or 1))
        if self.expiration_secs is not None:
            self.url_reuse_window = reuse_window(
                self.url_reuse_window,
                int(self.expiration_secs),
                setting="AZURE_URL_REUSE_WINDOW",
                expire_setting="AZURE_URL_EXPIRATION_SECS",
            )
        if len(self.location) >= MAX_NAME_LENGTH:
            raise ImproperlyConfigured(f"AZURE_LOCATION is longer than {MAX_NAME_LENGTH - 1}.")
        if not self._can_sign():
            # this instance only: the class keeps what a keyed storage declares
            self.capabilities = replace(self.capabilities, signed_urls=False)  # type: ignore[misc]

    def _can_sign(self) -> bool:
        """Whether SAS URLs can be signed: an account key or a token credential. A SAS
        token alone authorises requests but cannot sign one of its own."""
        if self.account_key or self.token_credential is not None:
            return True
        if not (self.sas_token or self.connection_string):
            return True  # the emulator's dev key, or no account: url() says what is missing
        try:
            return url_account_of(self).key is not None
        except ImproperlyConfigured:
            return True

    service_client = client_property(build_service_client)
    client = client_property(build_container_client)
    #: django-storages' clients of the account as URLs show it (the custom domain).
    custom_service_client = client_property(build_custom_service_client)
    custom_client = client_property(
        lambda self: self.custom_service_client.get_container_client(self.azure_container)
    )
    url_builder = client_property(lambda self: AzureUrlBuilder(self))

    # -- names ---------------------------------------------------------------------------

    def get_name_max_len(self) -> int:
        """The longest name a form may accept: 1,024 less the location and its slash."""
        return MAX_NAME_LENGTH - (len(self.location) + 1 if self.location else 0)

    def get_valid_name(self, name: str) -> str:
        """``name`` made valid for Azure: Django's cleaning of each part of the path, and
        no trailing dots (Azure refuses a name ending with "." or "/")."""
        parts = [get_valid_filename(part) for part in str(name).replace("\\", "/").split("/")]
        cleaned = "/".join(part for part in parts if part not in ("", ".", "..")).rstrip("./")
        if not cleaned:
            raise SuspiciousFileOperation(f"Could not derive a valid Azure name from {name!r}.")
        return cleaned

    def _candidate_name(self, name: str, max_length: int | None) -> ResolvedName:
        resolved = super()._candidate_name(name, max_length)
        self._check_blob_name(resolved.key, resolved)
        return resolved

    def _check_blob_name(self, key: str, name: str) -> None:
        """Refuse what Azure refuses, before any request, saying which rule it breaks."""
        if key.endswith((".", "/")):
            raise SuspiciousFileOperation(
                f"An Azure blob name cannot end with '.' or '/': {name!r}"
            )
        if key.count("/") > MAX_SLASHES:
            raise SuspiciousFileOperation(
                f"An Azure blob name holds at most {MAX_SLASHES} slashes: {name!r}"
            )
        if len(key) > MAX_NAME_LENGTH:
            raise SuspiciousFileOperation(
                f"An Azure blob name is at most {MAX_NAME_LENGTH} characters: {name!r}"
            )

    def _write_request(self, name: str, key: str, content: Any) -> WriteRequest:
        self._check_blob_name(key, name)
        return super()._write_request(name, key, content)

    # -- parameters ----------------------------------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Return the content settings (and ``metadata``) of ``name``; override per file."""
        parameters = self.object_parameters.copy()
        if self.cache_control and "cache_control" not in parameters:
            parameters["cache_control"] = self.cache_control
        return parameters

    def get_write_parameters(self, name: str, content: Any) -> dict[str, Any]:
        parameters = self.get_object_parameters(name)
        unknown = set(parameters) - {*CONTENT_SETTINGS, "metadata"}
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown AZURE_OBJECT_PARAMETERS key(s) {sorted(unknown)}: use "
                f"{', '.join(CONTENT_SETTINGS)} or metadata."
            )
        return parameters

    def _content_settings(self, request: WriteRequest) -> ContentSettings:
        from azure.storage.blob import ContentSettings

        values = {k: v for k, v in request.parameters.items() if k in CONTENT_SETTINGS}
        return ContentSettings(
            **{
                **values,
                "content_type": request.content_type,
                "content_encoding": request.content_encoding,
            }
        )

    # -- reading -------------------------------------------------------------------------

    @client_property
    def _blob_refs(self) -> BlobRefs:
        """Blob URLs and the container's pipeline: what read, stat and delete send."""
        return BlobRefs(self.client)

    @client_property
    def _blob_clients(self) -> BlobClients:
        return BlobClients(self.client)

    def _blob(self, key: str) -> Any:
        """The ``BlobClient`` of ``key``, for saves (reads, stats and deletes need none:
        ``_blob_refs``): building one costs ~170 µs of parsing and configuration, so the
        last few hundred used are kept."""
        return self._blob_clients.get(key)

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        """GET the blob from ``offset``: one request gives the first chunk and the stat
        (``client.get_range``). Each range comes with its MD5 (Azure computes it for
        ranges of up to 4 MiB), checked before any of its bytes is handed out (by read);
        a blob larger than the first chunk goes on in ranges of the same kind, from the
        end of that chunk, only while the blob is the one first read (its ETag)."""
        name = self._name_for_key(key)
        blob = self._blob_refs(key)
        try:
            with azure_errors("open", name, self.azure_container):
                body, headers = get_range(blob, offset, self._first_read, md5=self._range_md5)
        except StorageError as exc:
            if offset and _is_invalid_range(exc.__cause__):
                return io.BytesIO(b""), None  # at or past the end: nothing left to read
            raise
        stat = self._stat_from_headers(key, headers)
        stored = _stored_size(headers, len(body))
        chunks = checked_when_read(name, offset, body, headers)
        if offset + len(body) < stored:
            rest = self._read_rest(blob, name, offset + len(body), stored, stat.etag)
            chunks = itertools.chain(chunks, rest)
        return cast(IO[bytes], DownloadStream(chunks)), stat

    def _read_rest(
        self, blob: BlobRef, name: str, offset: int, end: int, etag: str | None
    ) -> Iterator[bytes]:
        """The ranges of a blob past its first, each fetched when the reader gets there
        (``DownloadStream`` reads one ahead), only from the version first read (its
        ETag: a blob replaced meanwhile is refused, never spliced)."""
        size = self._chunk_read
        while offset < end:
            with azure_errors("open", name, self.azure_container):
                body, headers = get_range(
                    blob, offset, min(size, end - offset), md5=self._range_md5, if_match=etag
                )
            if not body:
                return
            check_range(name, offset, body, headers)
            offset += len(body)
            yield body

    def _stat_from_headers(self, key: str, headers: Any) -> Stat:
        """The stat of a blob from the headers of a HEAD or GET of it."""
        stat = Stat(
            size=_stored_size(headers, 0),
            modified=_http_date(headers.get("Last-Modified")),
            created=_http_date(headers.get("x-ms-creation-time")),
            etag=headers.get("ETag"),
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
        )
        if stat.content_encoding != "gzip":
            return stat
        size = headers.get(f"x-ms-meta-{UNCOMPRESSED_SIZE}")
        if size and size.isdigit():
            return replace(stat, size=int(size))
        return replace(stat, size=self._gzip_size_from_trailer(key, stat.size))

    def _stat(self, key: str) -> Stat:
        with azure_errors("stat", self._name_for_key(key), self.azure_container):
            headers = get_properties(self._blob_refs(key))
        return self._stat_from_headers(key, headers)

    def _gzip_size_from_trailer(self, key: str, stored: int) -> int:
        with azure_errors("stat", self._name_for_key(key), self.azure_container):
            tail = self._blob(key).download_blob(
                offset=max(stored - 4, 0), length=min(stored, 4), decompress=False
            )
            return gzip_original_size(tail.readall())

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """The folders and blobs directly under ``prefix``, every page of them."""
        folders: list[str] = []
        files: list[str] = []
        with azure_errors("listdir", prefix, self.azure_container):
            for name, is_folder in list_level(self.client, prefix, self.list_page_size):
                rest = name[len(prefix) :]
                if is_folder:
                    folders.append(rest.rstrip("/"))
                elif rest:
                    files.append(rest)
        return folders, files

    def _scan(self, prefix: str) -> Iterator[tuple[str, Stat]]:
        """Every blob under ``prefix``: one request per 5,000 (``preload_metadata``)."""
        with azure_errors("listdir", prefix, self.azure_container):
            listing = self.client.list_blobs(
                name_starts_with=prefix or None,
                results_per_page=self.list_page_size,
            )
            for item in listing:
                yield item.name, Stat(size=item.size, modified=item.last_modified, etag=item.etag)

    def list_all(self, path: str = "") -> list[str]:
        """Every file under ``path`` at any depth, as names (django-storages' extra; its
        ``listdir`` used to return this)."""
        prefix = self._key(path or "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return [self._name_for_key(key) for key, _stat in self._scan(prefix)]

    # -- writing -------------------------------------------------------------------------

    def _part_target(self, request: WriteRequest) -> BlockBlobParts:
        metadata = dict(request.parameters.get("metadata") or {})
        exclusive = request.exclusive and self.capabilities.conditional_create
        if exclusive:
            metadata[WRITE_TOKEN] = request.token
        return BlockBlobParts(
            self._blob(request.key),
            self._content_settings(request),
            metadata,
            name=self._name_for_key(request.key),
            container=self.azure_container,
            token=request.token,
            exclusive=exclusive,
            on_send=lambda _http_request: _count_attempt(request),
        )

    def _concurrency(self, on_disk: bool) -> int:
        """Blocks in flight at once: ``upload_max_conn``."""
        return self.upload_max_conn

    def _is_own_write(self, request: WriteRequest, error: AlreadyExistsError) -> bool:
        """Whether the blob that made a create-only write clash is that write itself, sent
        again by the SDK's retry after Azure stored it and the response was lost: the blob
        then carries this write's token in its metadata. Sent once, it clashed with
        somebody else's blob: no request to find that out."""
        if request.attempts < 2:
            return False
        try:
            with azure_errors("save", self._name_for_key(request.key), self.azure_container):
                properties = self._blob(request.key).get_blob_properties()
        except FileNotFoundError:
            return False
        return (properties.metadata or {}).get(WRITE_TOKEN) == request.token

    def _delete(self, key: str) -> None:
        with azure_errors("delete", self._name_for_key(key), self.azure_container):
            delete_blob(self._blob_refs(key))

    # -- URLs ----------------------------------------------------------------------------

    def url(
        self,
        name: str | None,
        expire: int | None = None,
        parameters: dict[str, Any] | None = None,
        mode: str = "r",
    ) -> str:
        """Return the URL of ``name``: django-storages' signature, positional arguments too.

        With an expiry (``expire`` seconds, else ``expiration_secs``) it is a SAS URL
        granting ``mode`` ("r"; "w"/"c" for an upload) and setting the response headers
        in ``parameters`` (``content_disposition``...); without, a plain URL. No request.
        """
        return self._object_url(self._key(name or ""), expire, parameters, mode)

    def _object_url(
        self,
        key: str,
        expire: int | None = None,
        parameters: dict[str, Any] | None = None,
        mode: str = "r",
    ) -> str:
        return self.url_builder.url(key, expire=expire, parameters=parameters, mode=mode)

    def get_user_delegation_key(self, expiry: Any) -> Any:
        """A user-delegation key valid at ``expiry`` (token credential only; cached)."""
        builder = self.url_builder
        if builder._delegation is None:
            raise ValueError("A user-delegation key needs AZURE_TOKEN_CREDENTIAL.")
        return builder._delegation.key_for(expiry)


class BlobClients:
    """A bounded, thread-safe cache of the container's ``BlobClient`` objects by name."""

    def __init__(self, container: Any, size: int = 256) -> None:
        self._container = container
        self._size = size
        self._clients: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        client = self._container.get_blob_client(key)
        with self._lock:
            self._clients[key] = client
            while len(self._clients) > self._size:
                self._clients.popitem(last=False)
        return client


def _stored_size(headers: Any, default: int) -> int:
    """The blob's stored size: the total of ``Content-Range`` (a ranged GET), else the
    ``Content-Length`` of a whole-blob GET."""
    total = (headers.get("Content-Range") or "").rpartition("/")[2]
    if total.isdigit():
        return int(total)
    length = headers.get("Content-Length")
    return int(length) if length and length.isdigit() else default


def _http_date(value: str | None) -> datetime | None:
    return parsedate_to_datetime(value) if value else None


def _count_attempt(request: WriteRequest) -> None:
    request.attempts += 1


def _is_invalid_range(exc: BaseException | None) -> bool:
    return exc is not None and (status_of(exc) == 416 or code_of(exc) == "InvalidRange")


class AzureStaticStorage(AzureStorage):
    """For static files on a public container: plain URLs (``expiration_secs = None``).

    ``collectstatic`` learns which files exist, and when they changed, from one listing
    per 5,000 blobs instead of two requests per file (``preload_metadata``), and uploads
    its copies on 8 threads (``batch_concurrency``: with ``storages_base``'s collectstatic
    command, or inside ``with storage.batch()``). Collected files are saved over.
    """

    expiration_secs = None
    file_overwrite = True
    preload_metadata = True
    batch_concurrency = 8


class AzureManifestStaticStorage(ManifestFilesMixin, AzureStaticStorage):  # type: ignore[misc]
    """Static files with hashed names and a manifest (Django's ManifestStaticFilesStorage)."""
