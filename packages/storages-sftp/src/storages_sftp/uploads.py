"""Uploads that never show a half-written file and never leave the storage root.

The bytes go to a hidden temporary name in the target's folder (exclusive create),
every write reply is checked, modes and owner are applied, and only then is the
file renamed into place:

* replacing (``file_overwrite``): ``posix-rename@openssh.com``, an atomic
  ``rename(2)`` on the server (remove-then-rename on servers without it);
* not replacing: the plain SFTP rename, which never replaces a file (OpenSSH links
  the new name, and the link fails if the name exists), so a name is claimed
  atomically and two concurrent saves never replace each other.

Before the first write into a folder, each connection resolves it on the server
(realpath) and refuses it if a symbolic link leads it out of the root.
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import dataclass
from typing import Any

import paramiko
from django.core.exceptions import SuspiciousFileOperation

from storages_base.errors import StorageError

from .client import Connection, is_dir
from .errors import BACKEND

__all__ = ["Uploader", "finish_writes", "present"]

#: Folders a connection remembers as checked before it starts over.
CHECKED_FOLDERS = 1024


@dataclass(frozen=True)
class Uploader:
    """Writes files under ``root`` (a server path) with the storage's modes and owner."""

    root: str
    file_mode: int | None = None
    dir_mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    def open(self, conn: Connection, temp: str) -> paramiko.SFTPFile:
        """Create the temporary file ``temp`` (in the target's folder) for pipelined writes."""
        folder = posixpath.dirname(temp)
        self.prepare_folder(conn, folder)
        try:
            # Exclusive: never write into another's file. Unbuffered: the chunks written
            # are large, and paramiko's buffer would copy each of them twice.
            file = conn.sftp.open(temp, "wxb", bufsize=0)
        except FileNotFoundError:  # the folder was removed since this connection checked it
            conn.checked_folders.discard(folder)
            self.prepare_folder(conn, folder)
            file = conn.sftp.open(temp, "wxb", bufsize=0)
        file.set_pipelined(True)
        return file

    def finish(
        self, conn: Connection, file: paramiko.SFTPFile, temp: str, written: int, name: str
    ) -> None:
        """Close ``file`` once every write arrived, and apply the modes and owner."""
        with file:
            file.flush()
            if not finish_writes(file):
                _check_size(conn, temp, written, name)
        self._set_owner_and_mode(conn, temp, self.file_mode)

    def move(self, conn: Connection, temp: str, path: str, exclusive: bool) -> bool:
        """Rename ``temp`` to ``path``; False if ``exclusive`` and ``path`` exists."""
        sftp = conn.sftp
        if exclusive:
            try:
                sftp.rename(temp, path)
            except OSError:
                if conn.alive and present(conn, path):
                    return False
                raise
            return True
        if conn.posix_rename is not False:
            try:
                sftp.posix_rename(temp, path)
            except OSError as exc:
                unsupported = exc.errno is None and "unsupported" in str(exc).lower()
                if conn.posix_rename or not unsupported:
                    raise
                conn.posix_rename = False  # the server lacks the extension
            else:
                conn.posix_rename = True
                return True
        # Without posix-rename, replacing is remove-then-rename: not atomic, but a
        # reader sees the old file, no file, or the new one, never a partial one.
        with contextlib.suppress(FileNotFoundError):
            sftp.remove(path)
        sftp.rename(temp, path)
        return True

    def prepare_folder(self, conn: Connection, folder: str) -> None:
        """Create ``folder`` if missing; refuse it if a symlink leads it out of the root.

        The deepest existing ancestor is resolved on the server and must lie inside
        the resolved root; the missing folders are then created below it.
        """
        checked = conn.checked_folders
        if folder in checked:
            return
        root = self._root_realpath(conn)
        missing: list[str] = []
        current = folder or "."
        while not present(conn, current, follow=True):
            # realpath (normalize) accepts a missing last part, so check first.
            if current in ("/", "."):
                raise StorageError(f"{current!r} is missing on the server", backend=BACKEND)
            missing.append(current)
            current = posixpath.dirname(current) or "."
        real = conn.sftp.normalize(current)
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            raise SuspiciousFileOperation(
                f"The folder {folder!r} resolves to {real!r} on the server, outside the "
                f"storage root {root!r} (a symbolic link?): refusing to write there."
            )
        for path in reversed(missing):
            self._mkdir(conn, path)
        if len(checked) >= CHECKED_FOLDERS:
            checked.clear()
        checked.add(folder)

    def _root_realpath(self, conn: Connection) -> str:
        if conn.root_realpath is None:
            if not present(conn, self.root, follow=True):
                self._makedirs(conn, self.root)
            conn.root_realpath = conn.sftp.normalize(self.root)
        return conn.root_realpath

    def _makedirs(self, conn: Connection, path: str) -> None:
        parent = posixpath.dirname(path)
        if parent and parent not in ("/", ".") and not present(conn, parent, follow=True):
            self._makedirs(conn, parent)
        self._mkdir(conn, path)

    def _mkdir(self, conn: Connection, path: str) -> None:
        try:
            conn.sftp.mkdir(path)
        except OSError:
            # Another writer may have made it in the meantime; anything else is an error.
            if conn.alive and is_dir(conn, path):
                return
            raise
        self._set_owner_and_mode(conn, path, self.dir_mode)

    def _set_owner_and_mode(self, conn: Connection, path: str, mode: int | None) -> None:
        if mode is not None:
            conn.sftp.chmod(path, mode)
        if self.uid is not None or self.gid is not None:
            uid, gid = self.uid, self.gid
            if uid is None or gid is None:  # SFTP sets both: keep the one not asked for
                attrs = conn.sftp.stat(path)
                uid = attrs.st_uid if uid is None else uid
                gid = attrs.st_gid if gid is None else gid
            conn.sftp.chown(path, int(uid or 0), int(gid or 0))


def present(conn: Connection, path: str, follow: bool = False) -> bool:
    """Whether ``path`` exists (a dangling symlink counts unless ``follow``)."""
    try:
        (conn.sftp.stat if follow else conn.sftp.lstat)(path)
    except FileNotFoundError:
        return False
    return True


def _check_size(conn: Connection, temp: str, written: int, name: str) -> None:
    stored = conn.sftp.stat(temp).st_size
    if stored != written:
        raise StorageError(
            f"the server stored {stored} of {written} bytes",
            name=name,
            operation="save",
            backend=BACKEND,
        )


def finish_writes(file: paramiko.SFTPFile) -> bool:
    """Wait for the replies to a pipelined file's writes; raise the first error.

    paramiko checks them only now and then (and ``close()`` drops the rest), so a
    failed write, e.g. a full disk, would go unnoticed. Return False when paramiko's
    internals are not there to ask, for the caller to check the size instead.
    """
    internals: Any = file
    requests = getattr(internals, "_reqs", None)
    if requests is None:
        return False
    sftp: Any = file.sftp
    while requests:
        # Replies come in request order, so the oldest is always the next one read.
        sftp._read_response(requests.popleft())
    return True
