"""``SFTPStorage``: files on an SSH server, through paramiko.

Writes never show a half-written file: the bytes go to a hidden temporary name in
the target's folder, and only a complete upload is renamed into place (with the
posix-rename@openssh.com extension when replacing, which is atomic; with a plain
SFTP rename, which refuses an existing target, when not). Reads stream.
"""

from __future__ import annotations

import contextlib
import stat as stat_mode
import weakref
from datetime import datetime, timezone
from functools import partial
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

import paramiko
from django.core.exceptions import ImproperlyConfigured

from storages_base import names
from storages_base.clients import client_property
from storages_base.files import CHUNK_SIZE, Stat
from storages_base.fileserver import FileServerStorage, PathInfo, UploadSource
from storages_base.storage import Capabilities, WriteRequest
from storages_base.urls import published_url

from .client import (
    Attributes,
    Connection,
    ConnectionSettings,
    SFTPPool,
    connect,
    exists,
    host_key_policy,
    list_folder,
    remove,
    stat,
)
from .errors import BACKEND
from .files import SFTPReader, SFTPWriter, close_quietly, open_to_read, stat_and_read
from .options import OPTIONS
from .uploads import Uploader

if TYPE_CHECKING:
    import paramiko

__all__ = ["SFTPStorage"]


class SFTPStorage(FileServerStorage):
    """Django storage on an SFTP server; see the package README for the options."""

    backend_name = BACKEND
    options = OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True,  # a plain SFTP rename refuses an existing target
        ranged_reads=True,
        accessed_time=True,
        empty_folders=True,
        idempotent_create=True,  # a resent rename's clash is recognised (FileServerStorage)
    )
    max_key_length = 1024  # well under PATH_MAX (4096) with the root; 255 per name part
    max_name_part_length = 255  # NAME_MAX of the server's file system

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
    def sessions(self) -> SFTPPool:
        """The storage's connections: built on first use, then a plain attribute (read by
        every operation)."""
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

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """django-storages' escape hatch: a paramiko ``SFTPClient`` of this storage's server,
        connected on first use (same host key checks), reconnected once dropped. Its own
        connection, outside the pool the storage's operations share; ``close()`` closes it."""
        if self._unconfigured:
            self._refuse_unconfigured()
        held = self._escape_hatch
        conn = held.get("conn")
        if conn is None or not conn.alive:
            conn = held["conn"] = connect(self.sessions.settings)
        return conn.sftp

    #: The connection behind ``sftp`` (dropped by pickling, closed by ``close()``).
    _escape_hatch: client_property[dict[str, Connection]] = client_property(lambda self: {})

    def close(self) -> None:
        """Close the idle connections (files still open keep theirs until closed)."""
        pool = self.__dict__.get("sessions")
        if pool is not None:
            pool.close()
        conn = self.__dict__.get("_escape_hatch", {}).pop("conn", None)
        if conn is not None:
            conn.close()
        client_property.reset(self)

    # -- names -----------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        # Asked twice per operation: joined again only when the root or location changed.
        parts = (self._root, self.location)
        cached = self.__dict__.get("_key_prefix")
        if cached is not None and cached[0] == parts:
            return str(cached[1])
        prefix = "/".join(part for part in parts if part)
        self.__dict__["_key_prefix"] = (parts, prefix)
        return prefix

    def _path(self, key: str) -> str:
        """Return the server path of ``key`` (keys are relative; the root may not be)."""
        if self._absolute:
            return "/" + key
        return key or "."

    # -- reading and streaming writes ---------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        # The reader holds its connection until it is closed or read to the end.
        return self._run(lambda conn: self._open_reader(conn, key, offset), key, "open", keep=True)

    def _open_reader(self, conn: Connection, key: str, offset: int) -> tuple[IO[bytes], Stat]:
        path = self._path(key)
        handle = open_to_read(conn, path)
        try:
            attrs, head = stat_and_read(conn, handle, offset)
        except BaseException:
            close_quietly(conn, handle)
            raise
        if stat_mode.S_ISDIR(attrs.mode or 0):
            close_quietly(conn, handle)
            raise self._not_found(key, "open")
        info = _stat(attrs)
        file = None
        if offset + len(head) < info.size:  # more to read than the first read brought
            file = paramiko.SFTPFile(conn.sftp, handle, "rb")
            file.seek(offset + len(head))
        reader = SFTPReader(
            self.sessions,
            path,
            info.size,
            offset,
            name=self._name_for_key(key),
            modified=attrs.mtime,
            conn=conn,
            file=file,
            handle=handle,
            head=head,
        )
        return cast(IO[bytes], reader), info

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        """Stream ``open(name, "w")`` to the server; the file appears on close."""
        path, name = self._path(request.key), self._name_for_key(request.key)

        def start(conn: Connection) -> SFTPWriter:
            return SFTPWriter(
                self.sessions, conn, self._uploader, path, name=name, exclusive=request.exclusive
            )

        return cast(IO[bytes], self._run(start, request.key, "open", keep=True))

    # -- one stat: the commonest calls, with nothing built that they do not return -----------

    def _stat(self, key: str) -> Stat:
        return _stat(self._file_attributes(key))

    def _size(self, key: str) -> int:
        return self._file_attributes(key).size or 0  # no Stat, no datetimes (about 2 us)

    def _modified(self, key: str) -> datetime | None:
        mtime = self._file_attributes(key).mtime  # no Stat, no access time
        return None if mtime is None else datetime.fromtimestamp(mtime, timezone.utc)

    def _file_attributes(self, key: str) -> Attributes:
        # partial, not a lambda: one Python frame fewer per call (benchmarks/README.md)
        attrs = self._run(partial(stat, path=self._path(key)), key, "stat")
        if attrs is None or stat_mode.S_ISDIR(attrs.mode or 0):
            raise self._not_found(key, "stat")
        return attrs

    def _exists(self, key: str) -> bool:
        # A folder exists too, as on django-storages and FileSystemStorage.
        return self._run(partial(exists, path=self._path(key.rstrip("/"))), key, "exists")

    # -- the file-server primitives ----------------------------------------------------------

    def _path_info(self, conn: Connection, path: str) -> PathInfo | None:
        attrs = stat(conn, path)
        if attrs is None:
            return None
        if stat_mode.S_ISDIR(attrs.mode or 0):
            return PathInfo(folder=True)
        return PathInfo(folder=False, stat=_stat(attrs))

    def _list_path(self, conn: Connection, path: str) -> list[tuple[str, bool]]:
        return list_folder(conn, path)

    #: ``remove`` itself: one Python frame fewer per delete.
    _remove_path = staticmethod(remove)

    def _store_path(
        self, conn: Connection, path: str, source: UploadSource, request: WriteRequest
    ) -> None:
        file = self._uploader.open(conn, path)
        try:
            written = 0
            while chunk := source.read(CHUNK_SIZE):
                file.write(chunk)
                written += len(chunk)
            self._uploader.finish(conn, file, path, written, self._name_for_key(request.key))
        except BaseException:
            with contextlib.suppress(Exception):  # a dead connection cannot close it
                file.close()
            raise

    def _rename_path(self, conn: Connection, path: str, target: str, exclusive: bool) -> bool:
        return self._uploader.move(conn, path, target, exclusive)

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(self.base_url, self._name_for_key(key), setting="SFTP_BASE_URL")


def _stat(attrs: Attributes) -> Stat:
    return Stat(size=attrs.size or 0, modified=_time(attrs.mtime), accessed=_time(attrs.atime))


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
