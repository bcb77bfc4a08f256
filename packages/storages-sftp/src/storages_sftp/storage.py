"""``SFTPStorage``: files on an SSH server, through paramiko.

Writes never show a half-written file: the bytes go to a hidden temporary name in
the target's folder, and only a complete upload is renamed into place (with the
posix-rename@openssh.com extension when replacing, which is atomic; with a plain
SFTP rename, which refuses an existing target, when not). Reads stream.
"""

from __future__ import annotations

import stat as stat_mode
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured

from storages_base import names
from storages_base.clients import client_property
from storages_base.content import rewindable
from storages_base.files import Stat
from storages_base.remote import ClosingStorage, is_temporary_name, retrying
from storages_base.storage import BaseStorage, Capabilities, WriteRequest
from storages_base.urls import published_url

from .client import (
    ATTEMPTS,
    Connection,
    ConnectionSettings,
    SFTPPool,
    host_key_policy,
)
from .errors import BACKEND, is_transient
from .files import SFTPReader, SFTPWriter
from .options import OPTIONS
from .uploads import Uploader, is_dir

__all__ = ["SFTPStorage"]

T = TypeVar("T")


class SFTPStorage(ClosingStorage, BaseStorage):
    """Django storage on an SFTP server; see the package README for the options."""

    backend_name = BACKEND
    options = OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True,  # a plain SFTP rename refuses an existing target
        ranged_reads=True,
        accessed_time=True,
        empty_folders=True,
    )
    max_key_length = 1024  # well under PATH_MAX (4096) with the root; 255 per name part

    host: str
    root_path: str
    params: dict[str, Any]
    interactive: bool
    file_mode: int | None
    dir_mode: int | None
    uid: int | None
    gid: int | None
    known_host_file: str | None
    host_key_policy: Any
    max_idle: int
    base_url: str | None

    def configure(self) -> None:
        super().configure()
        if not self.host:
            raise ImproperlyConfigured("SFTPStorage needs a host: set SFTP_STORAGE_HOST.")
        self.params = dict(self.params or {})
        if "hostname" in self.params:
            raise ImproperlyConfigured(
                "SFTP_STORAGE_PARAMS must not contain 'hostname': set SFTP_STORAGE_HOST."
            )
        host_key_policy(self.host_key_policy, self.known_host_file)  # refuse bad values now
        self.file_mode, self.dir_mode = _mode(self.file_mode), _mode(self.dir_mode)
        root = names.clean_name(self.root_path or "")
        if ".." in root.split("/"):
            raise ImproperlyConfigured(
                f"SFTPStorage: root_path {self.root_path!r} climbs with '..': give the "
                "folder as an absolute path instead."
            )
        self._absolute = root.startswith("/")
        self._root = root.strip("/")
        self._uploader = Uploader(
            root=self._path(self.key_prefix),
            file_mode=self.file_mode,
            dir_mode=self.dir_mode,
            uid=self.uid,
            gid=self.gid,
        )

    # -- connections ---------------------------------------------------------------------

    @client_property
    def _pool(self) -> SFTPPool:
        settings = ConnectionSettings(
            host=self.host,
            params=dict(self.params),
            known_host_file=self.known_host_file,
            host_key_policy=self.host_key_policy,
            interactive=self.interactive,
        )
        pool = SFTPPool(settings, max_idle=self.max_idle)
        weakref.finalize(self, pool.close)  # a forgotten storage still closes its connections
        return pool

    def close(self) -> None:
        """Close the idle connections (files still open keep theirs until closed)."""
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.close()
        client_property.reset(self)

    # -- names -----------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        return "/".join(part for part in (self._root, self.location) if part)

    def _path(self, key: str) -> str:
        """Return the server path of ``key`` (keys are relative; the root may not be)."""
        if self._absolute:
            return "/" + key
        return key or "."

    # -- the storage hooks -----------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        return retrying(
            lambda: self._open_reader(key, offset), transient=is_transient, attempts=ATTEMPTS
        )

    def _open_reader(self, key: str, offset: int) -> tuple[IO[bytes], Stat | None]:
        """Open the file on a connection the reader keeps until it is closed."""
        path, name = self._path(key), self._name_for_key(key)
        conn = self._pool.acquire()
        try:
            file = conn.sftp.open(path, "rb")
            attrs = file.stat()
            if stat_mode.S_ISDIR(attrs.st_mode or 0):
                file.close()
                raise self._not_found(key, "open")
            file.seek(offset)
        except BaseException as exc:
            error = self._pool.give_back(conn, exc, name, "open")
            if error is exc:
                raise
            raise error from exc
        info = _stat(attrs)
        reader = SFTPReader(
            self._pool,
            path,
            info.size,
            offset,
            name=name,
            modified=attrs.st_mtime,
            conn=conn,
            file=file,
        )
        return cast(IO[bytes], reader), info

    def _stat(self, key: str) -> Stat:
        attrs = self._run(lambda conn: conn.sftp.stat(self._path(key)), key, "stat")
        if stat_mode.S_ISDIR(attrs.st_mode or 0):
            raise self._not_found(key, "stat")
        return _stat(attrs)

    def _exists(self, key: str) -> bool:
        # A folder exists too, as on django-storages and FileSystemStorage.
        try:
            self._run(lambda conn: conn.sftp.stat(self._path(key)), key, "exists")
        except FileNotFoundError:
            return False
        return True

    def _delete(self, key: str) -> None:
        self._run(lambda conn: self._remove(conn, self._path(key)), key, "delete")

    def _remove(self, conn: Connection, path: str) -> None:
        try:
            conn.sftp.remove(path)
        except FileNotFoundError:
            return
        except OSError:
            # remove() refuses folders; an empty one is deleted as FileSystemStorage does.
            if not conn.alive or not is_dir(conn, path):
                raise
            conn.sftp.rmdir(path)

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = self._path(prefix.rstrip("/"))

        def listing(conn: Connection) -> tuple[list[str], list[str]]:
            try:
                entries = conn.sftp.listdir_attr(path)
            except FileNotFoundError:
                return [], []
            folders = [e.filename for e in entries if stat_mode.S_ISDIR(e.st_mode or 0)]
            files = [
                e.filename
                for e in entries
                if not stat_mode.S_ISDIR(e.st_mode or 0) and not is_temporary_name(e.filename)
            ]
            return folders, files

        return self._run(listing, prefix, "listdir")

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(self.base_url, self._name_for_key(key), setting="SFTP_BASE_URL")

    # -- writing -----------------------------------------------------------------------------

    def _write(self, request: WriteRequest) -> None:
        content = request.content
        can_resend = rewindable(content)  # base _store() rewound it: a retry starts over
        path, name = self._path(request.key), self._name_for_key(request.key)
        attempts = 0

        def attempt(conn: Connection) -> None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                content.seek(0)  # a retry after a dropped connection starts over
            self._uploader.upload(conn, request, path, name, self._pool.orphans)

        self._pool.run(
            attempt,
            name=name,
            what="save",
            can_retry=lambda: can_resend,
        )

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        """Stream ``open(name, "w")`` to the server; the file appears on close."""
        path, name, exclusive = (
            self._path(request.key),
            self._name_for_key(request.key),
            request.exclusive,
        )

        def start(conn: Connection) -> SFTPWriter:
            return SFTPWriter(
                self._pool, conn, self._uploader, path, name=name, exclusive=exclusive
            )

        return cast(IO[bytes], self._pool.run(start, name=name, what="open", keep=True))

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, operation: Callable[[Connection], T], key: str, what: str) -> T:
        return self._pool.run(operation, name=self._name_for_key(key), what=what)


def _stat(attrs: Any) -> Stat:
    return Stat(
        size=int(attrs.st_size or 0),
        modified=_time(attrs.st_mtime),
        accessed=_time(attrs.st_atime),
    )


def _time(value: int | float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _mode(value: Any) -> int | None:
    """Accept a mode as an int (``0o640``) or an octal string (``"640"``)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise ImproperlyConfigured(f"SFTPStorage: {value!r} is not a file mode.") from None
