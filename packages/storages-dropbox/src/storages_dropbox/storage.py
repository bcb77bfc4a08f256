"""``DropboxStorage``: a Dropbox folder as Django storage, through the official SDK (API v2).

Thin on purpose: names, the overwrite policy, file objects and the upload engine come
from storages-base; this class maps the key-level hooks onto Dropbox calls, one call
per operation where Dropbox allows it. A key is the name under ``root_path`` (and
``location``); the Dropbox path is ``"/" + key``, built in one place (``_path``), so the
root is applied exactly once.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, cast

from django.core.exceptions import ImproperlyConfigured
from dropbox import files as dbx_files
from dropbox.exceptions import HttpError

from storages_base import BaseStorage, Capabilities, Stat, WriteRequest, client_property
from storages_base.chunked import ChunkedUploads
from storages_base.names import clean_name
from storages_base.signed_urls import reuse_window
from storages_base.uploads import DirectUploads

from .client import DropboxClient, build_client
from .errors import dropbox_errors
from .files import DropboxParts, ResponseStream
from .options import DROPBOX_OPTIONS, WRITE_MODES
from .urls import LINK_LIFE, TemporaryLinks, presigned_upload

__all__ = ["CREDENTIALS_NEEDED", "DropBoxStorage", "DropboxStorage"]

CREDENTIALS_NEEDED = (
    "set DROPBOX_OAUTH2_TOKEN (an access token), or all of DROPBOX_APP_KEY, "
    "DROPBOX_APP_SECRET and DROPBOX_OAUTH2_REFRESH_TOKEN (access tokens refreshed as they expire)."
)


class DropboxStorage(DirectUploads, ChunkedUploads, BaseStorage):
    """Files in a Dropbox folder (BACKEND "storages_dropbox.DropboxStorage")."""

    backend_name = "dropbox"
    sign_upload = presigned_upload  # storages_base.uploads.DirectUploads
    options = DROPBOX_OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True,  # write mode add, autorename off: a taken name is refused
        ranged_reads=True,
        signed_urls=True,
        http_urls=True,
        empty_folders=True,  # Dropbox folders exist on their own and stay when emptied
    )
    max_key_length = 4096
    #: Bytes per upload-session call (django-storages' class attribute; a multiple of 4 MiB).
    CHUNK_SIZE: ClassVar[int] = 8 * 1024 * 1024

    oauth2_access_token: str | None
    app_key: str | None
    app_secret: str | None
    oauth2_refresh_token: str | None
    root_path: str
    timeout: float | None
    write_mode: str
    url_reuse_window: int
    max_retries: int
    api_host: str | None
    content_host: str | None
    ca_bundle: str | None

    def __init__(self, oauth2_access_token: str | None = None, **kwargs: Any) -> None:
        if oauth2_access_token is not None:  # django-storages' positional form
            kwargs["oauth2_access_token"] = oauth2_access_token
            self._constructor_args = ((), kwargs)  # deconstruct() leaves the token out
        super().__init__(**kwargs)

    def configure(self) -> None:
        legacy = getattr(type(self), "location", None)  # 1.14's deprecated root alias
        if isinstance(legacy, str) and legacy.startswith("/") and self.location == legacy:
            warnings.warn(
                "DropboxStorage.location as the root folder is deprecated; use root_path.",
                DeprecationWarning,
                stacklevel=4,
            )
            if self.root_path in ("", "/"):
                self.root_path = legacy
            self.location = ""
        super().configure()
        name = type(self).__name__
        triple = (self.app_key, self.app_secret, self.oauth2_refresh_token)
        if any(triple) and not all(triple):
            raise ImproperlyConfigured(f"{name}: {CREDENTIALS_NEEDED}")
        root = str(self.root_path or "/")
        if not root.startswith("/"):
            raise ImproperlyConfigured(f"{name}: root_path {root!r} must start with '/'.")
        cleaned = clean_name(root).strip("/")
        if cleaned == ".." or cleaned.startswith("../") or "/../" in f"/{cleaned}/":
            raise ImproperlyConfigured(f"{name}: root_path {root!r} must not contain '..'.")
        self.root_path = "/" + cleaned
        if self.write_mode not in WRITE_MODES:
            raise ImproperlyConfigured(
                f"{name}: write_mode {self.write_mode!r} is not one of {', '.join(WRITE_MODES)}."
            )
        if self.file_overwrite is None:
            self.file_overwrite = self.write_mode != "add"
        self.url_reuse_window = reuse_window(
            self.url_reuse_window,
            LINK_LIFE,
            setting="DROPBOX_URL_REUSE_WINDOW",
            expire_setting="the temporary link's life",
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.oauth2_access_token or self.oauth2_refresh_token)

    def _resolve(self, name: str) -> Any:
        # Without credentials the storage still builds (a migration or a model module
        # imported where the settings lack them); its first operation refuses, and the
        # system check reports it at once.
        if not self.has_credentials:
            raise ImproperlyConfigured(f"{type(self).__name__}: {CREDENTIALS_NEEDED}")
        return super()._resolve(name)

    client: client_property[DropboxClient] = client_property(build_client)
    links = client_property(lambda self: TemporaryLinks(self, self.url_reuse_window))

    # -- names ---------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        return "/".join(part for part in (self.root_path.strip("/"), self.location) if part)

    def _path(self, key: str) -> str:
        """The Dropbox path of ``key`` ("" is the root, as list_folder wants it)."""
        key = key.strip("/")
        return f"/{key}" if key else ""

    # -- reading -------------------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        """One download call gives the stream (from ``offset``) and the file's metadata."""
        try:
            with dropbox_errors("open", self._name_for_key(key)):
                metadata, response = self.client.download_from(self._path(key), offset)
        except Exception as exc:
            cause = exc.__cause__
            if offset and isinstance(cause, HttpError) and cause.status_code == 416:
                return io.BytesIO(b""), None  # at or past the end: nothing left
            raise
        # From the start, the whole file: checked against its content hash as it is read.
        whole = not offset and getattr(metadata, "content_hash", None)
        stream = ResponseStream(
            response,
            metadata.content_hash if whole else None,
            int(metadata.size) if whole else None,
            self._name_for_key(key),
        )
        return cast(IO[bytes], stream), _stat(metadata)

    def _metadata(self, key: str, operation: str) -> Any:
        if not self._path(key):
            raise self._not_found(key, operation)  # the root is a folder
        with dropbox_errors(operation, self._name_for_key(key)):
            return self.client.files_get_metadata(self._path(key))

    def _stat(self, key: str) -> Stat:
        metadata = self._metadata(key, "stat")
        if not isinstance(metadata, dbx_files.FileMetadata):
            raise self._not_found(key, "stat")  # a folder has no size or times
        return _stat(metadata)

    def _exists(self, key: str) -> bool:
        """A file or a folder (Django's FileSystemStorage says True for both)."""
        if not self._path(key):
            return True
        try:
            self._metadata(key, "exists")
        except FileNotFoundError:
            return False
        return True

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """Every page of the folder, following the cursor (django-storages read one)."""
        folders: list[str] = []
        files: list[str] = []
        try:
            with dropbox_errors("listdir", prefix):
                page = self.client.files_list_folder(self._path(prefix))
                while True:
                    for entry in page.entries:
                        if isinstance(entry, dbx_files.FolderMetadata):
                            folders.append(entry.name)
                        elif isinstance(entry, dbx_files.FileMetadata):
                            files.append(entry.name)
                    if not page.has_more:
                        break
                    page = self.client.files_list_folder_continue(page.cursor)
        except FileNotFoundError:
            return [], []
        return folders, files

    # -- writing -------------------------------------------------------------------------

    def _mode(self, key: str, exclusive: bool) -> dbx_files.WriteMode:
        """``add`` when the write must not replace a file; else as ``write_mode`` says."""
        if exclusive:
            return dbx_files.WriteMode.add
        if self.write_mode != "update":
            return dbx_files.WriteMode.overwrite
        try:  # replace exactly the revision there now: a concurrent change is refused
            metadata = self._metadata(key, "save")
        except FileNotFoundError:
            return dbx_files.WriteMode.add
        return dbx_files.WriteMode.update(metadata.rev)

    def _part_target(self, request: WriteRequest) -> DropboxParts:
        return DropboxParts(
            self.client,
            self._path(request.key),
            self._mode(request.key, request.exclusive),
            name=self._name_for_key(request.key),
            exclusive=request.exclusive,
            on_mismatch=lambda path: self._delete_quietly(path.lstrip("/")),
        )

    def _part_size(self, on_disk: bool) -> int:
        return self.CHUNK_SIZE

    def _delete(self, key: str) -> None:
        """``delete_v2`` (a missing file: NotFoundError, quiet in delete()). A folder's name
        deletes the folder."""
        with dropbox_errors("delete", self._name_for_key(key)):
            self.client.files_delete_v2(self._path(key))

    # -- URLs ----------------------------------------------------------------------------

    def url(self, name: str | None, expire: int | None = None) -> str:
        """A temporary link (four hours; ``expire`` cannot change that), reused per name
        within ``url_reuse_window``. A missing file raises FileNotFoundError."""
        return self._object_url(self._key(name or ""))

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return self.links.url(key)


def _stat(metadata: Any) -> Stat:
    modified = metadata.server_modified
    if modified is not None and modified.tzinfo is None:
        modified = modified.replace(tzinfo=timezone.utc)
    return Stat(size=int(metadata.size), modified=_aware(modified), etag=metadata.rev)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


#: django-storages' spelling, kept for settings and imports written for it.
DropBoxStorage = DropboxStorage
