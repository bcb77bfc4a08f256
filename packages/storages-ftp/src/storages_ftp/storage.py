"""``FTPStorage``: Django files on an FTP or FTPS server, streamed both ways."""

from __future__ import annotations

import ftplib
import ssl
from typing import IO, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from storages_base.clients import client_property
from storages_base.errors import AlreadyExistsError
from storages_base.fileparts import file_region
from storages_base.files import Stat
from storages_base.remote import ClosingStorage, temporary_name
from storages_base.storage import BaseStorage, Capabilities, WriteRequest
from storages_base.urls import published_url

from .client import FTPClient, Location, check_encoding, parse_location
from .errors import BACKEND, is_broken, reply_code
from .files import RetrStream, UploadSource
from .listing import FOLDER
from .options import FTP_OPTIONS
from .session import Session

__all__ = ["FTPStorage"]


class FTPStorage(ClosingStorage, BaseStorage):
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
        conditional_create=False, ranged_reads=True, empty_folders=True
    )
    max_key_length = 1024

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

    # -- sessions ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle sessions; the storage stays usable and reconnects on demand."""
        if "client" in self.__dict__:
            self.client.close()

    # -- hooks -----------------------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        client = self.client

        def attempt() -> tuple[IO[bytes], Stat | None]:
            session = client.pool.acquire()
            try:
                return self._start_download(session, key, offset)
            except BaseException as exc:
                (client.pool.discard if is_broken(exc) else client.pool.release)(session)
                raise

        return client.call("open", key, attempt)

    def _start_download(
        self, session: Session, key: str, offset: int
    ) -> tuple[IO[bytes], Stat | None]:
        entry = session.entry(key)
        if entry.kind == FOLDER:
            raise self._not_found(key, "open")
        session.binary_mode()
        data, _ = session.ntransfercmd(f"RETR {key}", rest=offset or None)
        stat = Stat(size=entry.size, modified=entry.modified) if entry.size is not None else None
        expected = None if entry.size is None else entry.size - offset
        stream = RetrStream(self.client.pool, session, data, name=key, expected=expected)
        return stream, stat  # type: ignore[return-value]  # RawIOBase is a binary IO

    def _write(self, request: WriteRequest) -> None:
        # A file on disk is read where it lies, by offset: one copy, and rewinds exactly.
        source = UploadSource(file_region(request.source, request.size) or request.content)
        self.client.run(
            "save",
            request.key,
            lambda session: self._upload(session, request, source),
            can_retry=source.rewind,
            broken=lambda exc: source.failure is not None or is_broken(exc),
        )

    def _upload(self, session: Session, request: WriteRequest, source: UploadSource) -> None:
        partial = temporary_name(request.key)
        try:
            session.store(partial, source)  # type: ignore[arg-type]
            if not session.replace(partial, request.key, exclusive=request.exclusive):
                raise AlreadyExistsError(
                    "File exists", name=request.key, operation="save", backend=BACKEND
                )
        except BaseException as exc:
            broken = source.failure is not None or is_broken(exc)
            self.client.remove_temporary(partial, None if broken else session)
            raise

    def _stat(self, key: str) -> Stat:
        entry = self.client.run("stat", key, lambda session: session.entry(key))
        if entry.kind == FOLDER or entry.size is None:
            raise self._not_found(key, "stat")
        return Stat(size=entry.size, modified=entry.modified)

    def _exists(self, key: str) -> bool:
        # Folders exist on a file server (as on FileSystemStorage).
        return self.client.run("exists", key, lambda session: session.exists(key.rstrip("/")))

    def _delete(self, key: str) -> None:
        self.client.run("delete", key, lambda session: session.remove(key.rstrip("/")))

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = prefix.rstrip("/")

        def listdir(session: Session) -> tuple[list[str], list[str]]:
            try:
                return session.listdir(path)
            except ftplib.error_perm as exc:
                if reply_code(exc) == 550:
                    return [], []  # a missing folder lists empty, as on object stores
                raise

        return self.client.run("listdir", prefix, listdir)

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(self.base_url, key, setting="BASE_URL")
