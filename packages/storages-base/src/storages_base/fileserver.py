"""Storages on a file server (FTP, SFTP): the policy written once, the protocol left to hooks.

A file server has folders, shows a file while it is written, and speaks through
stateful connections. :class:`FileServerStorage` answers the storage hooks from a
few protocol primitives a backend implements on one connection:

* ``_path_info`` (what a path is), ``_list_path``, ``_remove_path``;
* ``_store_path`` (create a new file from a stream) and ``_rename_path`` (move it
  into place, refusing an existing target when the write is create-only).

What it adds once: every operation runs through the storage's
:class:`~storages_base.remote.Sessions` (pooled connections, bounded retries that
never send a consumed stream twice); an upload goes to a temporary name beside its
target and is renamed into place, so a reader never sees half a file; a failed
upload's temporary file is deleted, later if its connection died; listings hide
temporary files; a folder exists (as on ``FileSystemStorage``) but has no size; a
create-only write resent after its answer was lost is recognised as its own.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import IO, Any, TypeVar

from .clients import client_property
from .errors import AlreadyExistsError, FolderNotEmptyError, NotFoundError, StorageError
from .fileparts import file_region
from .files import Stat
from .remote import ClosingStorage, Sessions, is_temporary_name, temporary_name
from .storage import BaseStorage, WriteRequest

__all__ = ["ABANDONED_AFTER", "FileServerStorage", "PathInfo", "UploadSource"]

T = TypeVar("T")

#: Writes a storage remembers for recognising a resend of one of them (``_is_own_write``).
RECENT_WRITES = 1024
#: Seconds a temporary file must be left unchanged before it counts as abandoned.
ABANDONED_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class PathInfo:
    """What a path on the server is: a folder, or a file with its stat (if the server says)."""

    folder: bool
    stat: Stat | None = None


class UploadSource(io.RawIOBase):
    """The content of an upload, as the protocol reads it.

    It records whether any byte was read (a failed upload can only be repeated if
    the content can be rewound) and marks failures of the content itself, which are
    the caller's and must not be retried as network faults.
    """

    def __init__(self, content: IO[bytes] | io.RawIOBase) -> None:
        super().__init__()
        self._content = content
        self.consumed = False
        self.sent = 0  # bytes read by this attempt
        self.failure: BaseException | None = None
        self._start: int | None = None
        try:
            if content.seekable():
                self._start = 0  # where the base's _store() rewound it
                self._start = content.tell()
        except (AttributeError, OSError, ValueError):
            pass  # a rewind-only stream has no tell()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self._content.read(-1 if size is None else size)
        except BaseException as exc:
            self.failure = exc
            raise
        if data:
            self.consumed = True
            self.sent += len(data)
        return bytes(data) if data is not None else b""

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def rewind(self) -> bool:
        """Go back to the start for another attempt; False if the content cannot."""
        if not self.consumed:
            return self.failure is None
        if self._start is None or self.failure is not None:
            return False
        try:
            self._content.seek(self._start)
        except (OSError, ValueError):
            return False
        self.consumed = False
        self.sent = 0
        return True


class RecentWrites:
    """The last writes a storage renamed into place: token -> bytes sent (bounded)."""

    def __init__(self, size: int = RECENT_WRITES) -> None:
        self.size = size
        self._sent: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, token: str, sent: int) -> None:
        with self._lock:
            self._sent[token] = sent
            self._sent.move_to_end(token)
            while len(self._sent) > self.size:
                self._sent.popitem(last=False)

    def get(self, token: str) -> int | None:
        with self._lock:
            return self._sent.get(token)


class FileServerStorage(ClosingStorage, BaseStorage):
    """A storage on a file server: the storage hooks, on the protocol's primitives.

    A subclass provides :attr:`sessions` (built lazily), :meth:`_path` where server
    paths differ from keys, and the primitives below, which work on one connection,
    raise the protocol's own errors (``sessions`` translates them) and never retry.
    """

    # -- what a file-server backend provides ----------------------------------------------

    @property
    def sessions(self) -> Sessions[Any]:
        """The storage's connections (a ``client_property``: built on first use)."""
        raise NotImplementedError

    def _path(self, key: str) -> str:
        """Return the server path of ``key``."""
        return key

    def _path_info(self, conn: Any, path: str) -> PathInfo | None:
        """Say what ``path`` is; None when it does not exist."""
        raise NotImplementedError

    def _list_path(self, conn: Any, path: str) -> Iterable[tuple[str, bool]]:
        """Return ``(base name, is a folder)`` for each entry of ``path``; none if missing."""
        raise NotImplementedError

    def _remove_path(self, conn: Any, path: str) -> None:
        """Delete a file or an empty folder; a missing path is not an error."""
        raise NotImplementedError

    def _store_path(
        self, conn: Any, path: str, source: UploadSource, request: WriteRequest
    ) -> None:
        """Create the new file ``path`` (a temporary name beside the target) from ``source``."""
        raise NotImplementedError

    def _rename_path(self, conn: Any, path: str, target: str, exclusive: bool) -> bool:
        """Move ``path`` to ``target``; return False if ``exclusive`` and ``target`` exists."""
        raise NotImplementedError

    # -- the storage hooks, written once ---------------------------------------------------

    def _run(self, work: Callable[[Any], T], key: str, operation: str, **options: Any) -> T:
        """Run ``work`` on a connection, with the storage's retries and error mapping."""
        # The name is for errors: worked out only when one happens.
        name = partial(self._name_for_key, key)
        return self.sessions.run(work, name=name, operation=operation, **options)

    def _stat(self, key: str) -> Stat:
        info = self._run(lambda conn: self._path_info(conn, self._path(key)), key, "stat")
        if info is None or info.folder or info.stat is None:
            raise self._not_found(key, "stat")
        return info.stat

    def _exists(self, key: str) -> bool:
        # A folder exists too, as on django-storages and FileSystemStorage.
        path = self._path(key.rstrip("/"))
        return self._run(lambda conn: self._path_info(conn, path), key, "exists") is not None

    def _delete(self, key: str) -> None:
        path = self._path(key.rstrip("/"))
        try:
            self._run(partial(self._remove_path, path=path), key, "delete")
        except StorageError as exc:
            # The server's answer to removing a folder that holds files is vague (SFTP's
            # "Failure", FTP's 550, read as "not found"): say what it was, after one more look.
            if type(exc) not in (StorageError, NotFoundError):
                raise
            info = self._run(lambda conn: self._path_info(conn, path), key, "delete")
            if info is None or not info.folder:
                raise
            raise FolderNotEmptyError(
                "The folder still holds files and is not deleted: delete them first",
                name=self._name_for_key(key),
                operation="delete",
                backend=self.backend_name,
            ) from exc

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = self._path(prefix.rstrip("/"))

        def listing(conn: Any) -> tuple[list[str], list[str]]:
            folders: list[str] = []
            files: list[str] = []
            for name, folder in self._list_path(conn, path):
                # Uploads in progress are hidden (their names start with a dot).
                if name and (name[0] != "." or not is_temporary_name(name)):
                    (folders if folder else files).append(name)
            return folders, files

        return self._run(listing, prefix, "listdir")

    def _write(self, request: WriteRequest) -> None:
        # A file on disk is read where it lies, by offset: one copy, and rewinds exactly.
        source = UploadSource(file_region(request.source, request.size) or request.content)
        sessions = self.sessions
        self._run(
            lambda conn: self._upload(conn, request, source),
            request.key,
            "save",
            can_retry=source.rewind,
            # A content that failed mid-stream left the connection in mid-transfer.
            broken=lambda exc, error: source.failure is not None or sessions.broken(exc, error),
        )

    def _upload(self, conn: Any, request: WriteRequest, source: UploadSource) -> None:
        """Store ``source`` under a temporary name beside the target, then rename it there."""
        target = self._path(request.key)
        temporary = temporary_name(target)
        renaming = False
        try:
            self._store_path(conn, temporary, source, request)
            renaming = True
            if not self._rename_into_place(conn, temporary, target, request.exclusive):
                raise AlreadyExistsError(
                    "File exists",
                    name=self._name_for_key(request.key),
                    operation="save",
                    backend=self.backend_name,
                )
        except BaseException as exc:
            in_step = source.failure is None and self.sessions.in_step(conn, exc)
            if renaming and not in_step:
                self._settle_rename(request, temporary, source.sent)
            self.sessions.abandon(conn if in_step else None, temporary)
            raise
        self._recent_writes.add(request.token, source.sent)

    def _rename_into_place(self, conn: Any, temporary: str, target: str, exclusive: bool) -> bool:
        """``_rename_path``; a create-only one on a server whose rename cannot refuse an
        existing target (FTP: a check, then RNTO) holds the target's lock of this storage
        from the check to the rename, so two of its threads never take one name."""
        if not exclusive or self.capabilities.conditional_create:
            return self._rename_path(conn, temporary, target, exclusive)
        with self._create_locks.hold(target):
            return self._rename_path(conn, temporary, target, exclusive)

    # -- a create-only write resent after its answer was lost ------------------------------

    @client_property
    def _recent_writes(self) -> RecentWrites:
        return RecentWrites()

    def _settle_rename(self, request: WriteRequest, temporary: str, sent: int) -> None:
        """A rename whose answer was lost may have been done: it was if its file is gone.

        Nobody else knows the temporary name, so its absence is the evidence. Asked
        once, on another connection; when the server does not answer, nothing is claimed.
        """
        try:
            gone = self.sessions.run(
                lambda conn: self._path_info(conn, temporary) is None,
                name=self._name_for_key(request.key),
                operation="save",
                can_retry=lambda: False,
            )
        except Exception:
            return
        if gone:
            self._recent_writes.add(request.token, sent)

    def _is_own_write(self, request: WriteRequest, error: AlreadyExistsError) -> bool:
        # Ours if this storage renamed this very request into place (its token) and the
        # file there still has the size sent: one stat, on a clash of a resent write only.
        sent = self._recent_writes.get(request.token)
        if sent is None:
            return False
        path = self._path(request.key)
        info = self._run(lambda conn: self._path_info(conn, path), request.key, "save")
        return info is not None and info.stat is not None and info.stat.size == sent

    # -- uploads a killed process left behind ----------------------------------------------

    def remove_abandoned_uploads(
        self, path: str = "", older_than: float = ABANDONED_AFTER, dry_run: bool = False
    ) -> list[str]:
        """Delete the temporary files of uploads that never ended, under folder ``path``.

        A process killed mid-upload leaves its temporary file behind: hidden by listings,
        never renamed into place, never deleted. Only one left unchanged for ``older_than``
        seconds is taken (an upload in progress keeps writing to its own), so this is safe
        beside live uploads. Returns the names found (deleted unless ``dry_run``).
        """
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        root = self._key(path) if path.strip("/") else self.key_prefix
        found: list[str] = []
        folders = [root.strip("/")]
        while folders:
            folder = folders.pop()
            entries = self._entries(folder)
            for name, is_folder in entries:
                key = f"{folder}/{name}" if folder else name
                if is_folder:
                    folders.append(key)
                elif is_temporary_name(name) and self._abandoned(key, cutoff, dry_run):
                    found.append(self._name_for_key(key))
        return sorted(found)

    def _entries(self, key: str) -> list[tuple[str, bool]]:
        path = self._path(key)
        return self._run(lambda conn: list(self._list_path(conn, path)), key, "listdir")

    def _abandoned(self, key: str, cutoff: datetime, dry_run: bool) -> bool:
        """Whether the temporary file ``key`` is older than ``cutoff`` (then deleted)."""
        path = self._path(key)

        def check(conn: Any) -> bool:
            info = self._path_info(conn, path)
            modified = info.stat.modified if info is not None and info.stat is not None else None
            if modified is None or modified >= cutoff:  # gone, or no time to judge by
                return False
            if not dry_run:
                self._remove_path(conn, path)
            return True

        return self._run(check, key, "delete")
