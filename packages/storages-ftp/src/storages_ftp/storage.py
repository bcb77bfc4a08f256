"""``FTPStorage``: Django files on an FTP or FTPS server, streamed both ways."""

from __future__ import annotations

import ftplib
import posixpath
import ssl
from typing import IO, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from storages_base.clients import client_property
from storages_base.files import Stat
from storages_base.fileserver import FileServerStorage, PathInfo, UploadSource
from storages_base.remote import Sessions
from storages_base.storage import Capabilities, WriteRequest
from storages_base.urls import published_url

from .client import FTPClient, Location, check_encoding, parse_location
from .errors import BACKEND, reply_code
from .files import RetrStream
from .listing import FOLDER
from .options import FTP_OPTIONS
from .session import Session

__all__ = ["FTPStorage"]


class FTPStorage(FileServerStorage):
    """Files on an FTP server; settings and behaviour as django-storages' ``FTPStorage``.

    Uploads go to a temporary name in the target folder and are renamed into place,
    so readers never see half a file; reads stream from the data connection. Missing
    folders are created. Sessions are pooled and reopened after a drop (see README).
    """

    backend_name = BACKEND
    options = FTP_OPTIONS
    # No conditional create: FTP has no "rename unless the target exists". A save
    # without overwrite checks just before its rename, which narrows the race.
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=False, ranged_reads=True, empty_folders=True, idempotent_create=True
    )
    max_key_length = 1024
    max_name_part_length = 255  # NAME_MAX of the server's file system

    base_url: str | None
    encoding: str
    allow_overwrite: bool
    file_overwrite: bool
    timeout: float | None
    retries: int
    pool_size: int
    ca_file: str | None

    def configure(self) -> None:
        # The location is a URL, not a key prefix: the base's checks do not apply.
        self.server: Location = parse_location(self.location)
        self.encoding = check_encoding(self.encoding)
        if self.file_overwrite is None:
            self.file_overwrite = bool(self.allow_overwrite)
        self.allow_overwrite = bool(self.file_overwrite)
        if int(self.retries) < 0 or int(self.pool_size) < 0:
            raise ImproperlyConfigured("FTPStorage: retries and pool_size must be >= 0.")

    @property
    def key_prefix(self) -> str:
        # Sessions start in the URL's folder, so keys are relative to it.
        return ""

    def ssl_context(self) -> ssl.SSLContext:
        """Return the TLS context of ``ftps://`` sessions (override for client certs)."""
        return ssl.create_default_context(cafile=self.ca_file)

    @client_property
    def client(self) -> FTPClient:
        return FTPClient(
            self.server,
            encoding=self.encoding,
            timeout=self.timeout,
            retries=int(self.retries),
            pool_size=int(self.pool_size),
            ssl_context=self.ssl_context,
        )

    @property
    def sessions(self) -> Sessions[Session]:
        return self.client.sessions

    def close(self) -> None:
        """Close the idle sessions; the storage stays usable and reconnects on demand."""
        if "client" in self.__dict__:
            self.client.close()

    # -- reading -----------------------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        # The stream holds its session until the transfer ends or the file is closed.
        return self._run(lambda session: self._retr(session, key, offset), key, "open", keep=True)

    def _retr(self, session: Session, key: str, offset: int) -> tuple[IO[bytes], Stat | None]:
        entry = session.entry(key)
        if entry.kind == FOLDER:
            raise self._not_found(key, "open")
        session.binary_mode()
        data, _ = session.ntransfercmd(f"RETR {key}", rest=offset or None)
        stat = Stat(size=entry.size, modified=entry.modified) if entry.size is not None else None
        expected = None if entry.size is None else entry.size - offset
        stream = RetrStream(self.client.pool, session, data, name=key, expected=expected)
        return stream, stat  # type: ignore[return-value]  # RawIOBase is a binary IO

    # -- the file-server primitives ----------------------------------------------------------

    def _path_info(self, session: Session, path: str) -> PathInfo | None:
        try:
            entry = session.entry(path)
        except ftplib.error_perm as exc:
            if reply_code(exc) == 550:
                return None
            raise
        if entry.kind == FOLDER or entry.size is None:
            return PathInfo(folder=entry.kind == FOLDER)
        return PathInfo(folder=False, stat=Stat(size=entry.size, modified=entry.modified))

    def _list_path(self, session: Session, path: str) -> list[tuple[str, bool]]:
        try:
            found = session.names(path)
        except ftplib.error_perm as exc:
            if reply_code(exc) == 550:
                return []  # a missing folder lists empty, as on object stores
            raise
        # Some servers list full paths.
        return [
            (posixpath.basename(name.rstrip("/")), folder) if "/" in name else (name, folder)
            for name, folder in found
        ]

    def _remove_path(self, session: Session, path: str) -> None:
        session.remove(path)

    def _store_path(
        self, session: Session, path: str, source: UploadSource, request: WriteRequest
    ) -> None:
        session.store(path, source)  # type: ignore[arg-type]  # RawIOBase is a binary IO

    def _rename_path(self, session: Session, path: str, target: str, exclusive: bool) -> bool:
        return session.replace(path, target, exclusive=exclusive)

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(self.base_url, key, setting="BASE_URL")
