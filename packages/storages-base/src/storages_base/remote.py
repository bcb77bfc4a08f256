"""Shared machinery of the file-server backends (FTP, SFTP): connections and uploads.

File servers differ from object stores in three ways this module handles once:

* a connection is a stateful session that one thread uses at a time, so a storage
  keeps a small :class:`ConnectionPool` of them instead of one shared client;
* sessions drop (idle timeouts, server restarts), so operations go through
  :func:`retrying`, which reconnects a bounded number of times and then raises a
  :class:`~storages_base.errors.TransientError`; :class:`Sessions` joins the pool,
  the retries and the protocol's error mapping, for a storage to run operations on;
* a file being written is visible while it is written, so uploads go to a
  :func:`temporary_name` in the same folder and are renamed into place at the end
  (listings hide those names with :func:`is_temporary_name`); one whose upload failed
  on a lost connection is deleted by the next connection (:meth:`Sessions.abandon`).

:mod:`storages_base.fileserver` builds a storage's hooks on these.

:class:`ClosingStorage` lets ``with storage:`` close a storage's idle connections.
"""

from __future__ import annotations

import logging
import posixpath
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Generic, TypeVar

from .errors import StorageError, TransientError

__all__ = [
    "ClosingStorage",
    "ConnectionPool",
    "Sessions",
    "is_temporary_name",
    "retrying",
    "temporary_name",
]

logger = logging.getLogger("storages")

C = TypeVar("C")
T = TypeVar("T")

_TEMPORARY = re.compile(r"^\.storages-[0-9a-f]{16}\.part$")


def temporary_name(key: str) -> str:
    """Return a fresh hidden name in the folder of ``key``, for an upload in progress.

    The name is short and fixed in shape, so it fits any server's name limits and
    :func:`is_temporary_name` can recognise it.
    """
    folder = posixpath.dirname(key)
    return posixpath.join(folder, f".storages-{secrets.token_hex(8)}.part")


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` (a base name) is an upload in progress made by :func:`temporary_name`."""
    # Asked for every name a listing returns: most are not, and say so at the first character.
    return name[:1] == "." and _TEMPORARY.match(name) is not None


class ConnectionPool(Generic[C]):
    """Idle connections of one storage, lent to one thread at a time.

    Every operation borrows a connection and gives it back; a connection that failed
    is closed instead. There is no cap on connections in use (a thread holding an open
    file may call ``size()`` on the same storage without deadlocking); at most
    ``max_idle`` are kept for reuse. A connection idle for longer than ``check_after``
    seconds is checked with ``check`` before it is lent, so a session the server
    dropped is replaced before a non-repeatable upload is sent down it.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        *,
        max_idle: int = 4,
        check: Callable[[C], None] | None = None,
        check_after: float = 10.0,
    ) -> None:
        self._connect = connect
        self._close = close
        self._check = check
        self._check_after = check_after
        self.max_idle = max_idle
        self._idle: list[tuple[C, float]] = []
        self._lock = threading.Lock()

    def acquire(self) -> C:
        """Return an idle connection that still answers, or a new one."""
        while self._idle:
            conn = self.take_idle()
            if conn is not None:
                return conn
        return self._connect()

    def take_idle(self) -> C | None:
        """The newest idle connection, checked first if it was idle for ``check_after``
        seconds (discarded if the check fails); None if there is none or it failed.
        Never connects: the common case of an operation, in one call."""
        with self._lock:
            if not self._idle:
                return None
            conn, since = self._idle.pop()
        check = self._check
        if check is None or (self._check_after and time.monotonic() - since < self._check_after):
            return conn
        try:
            check(conn)
        except Exception:
            self.discard(conn)
            return None
        return conn

    def release(self, conn: C) -> None:
        """Give ``conn`` back for reuse (or close it when enough are idle)."""
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        self.discard(conn)

    def claim(self, conn: C) -> bool:
        """Take ``conn`` itself out of the idle ones; False if it is not idle (lent, or
        closed). Never waits: a finaliser may ask while this thread holds the lock."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            for index, (idle, _since) in enumerate(self._idle):
                if idle is conn:
                    del self._idle[index]
                    return True
            return False
        finally:
            self._lock.release()

    def discard(self, conn: C) -> None:
        """Close ``conn`` without reusing it; errors while closing are ignored."""
        try:
            self._close(conn)
        except Exception:  # a broken connection may fail to close
            logger.debug("closing a broken connection failed", exc_info=True)

    @contextmanager
    def connection(self, broken: Callable[[BaseException], bool]) -> Iterator[C]:
        """Lend a connection for a block; discard it if the block fails with ``broken``."""
        conn = self.acquire()
        try:
            yield conn
        except BaseException as exc:
            if broken(exc):
                self.discard(conn)
            else:
                self.release(conn)
            raise
        self.release(conn)

    def close(self) -> None:
        """Close every idle connection; the pool stays usable and reconnects lazily."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _since in idle:
            self.discard(conn)

    @property
    def idle(self) -> int:
        return len(self._idle)


def retrying(
    operation: Callable[[], T],
    *,
    transient: Callable[[BaseException], bool],
    attempts: int = 3,
    backoff: float = 0.1,
    describe: Callable[[BaseException, int], StorageError] | None = None,
    can_retry: Callable[[], bool] = lambda: True,
    failed: BaseException | None = None,
) -> T:
    """Run ``operation``; on a transient failure retry it, up to ``attempts`` runs in all.

    Waits ``backoff`` seconds, doubling, between runs. When the runs are spent (or
    ``can_retry()`` says the operation cannot be repeated, e.g. a consumed upload
    stream), raise ``describe(exc, runs)`` chained to the last failure; without
    ``describe``, a storage error as it is and anything else as a
    :class:`TransientError`. Non-transient errors pass through at once. ``failed``: the
    transient failure of a first run the caller made itself (its common case, a success,
    then costs no loop); the runs go on from the second.
    """
    delay = backoff
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            if failed is not None and attempt == 1:
                raise failed
            return operation()
        except StorageError as exc:
            if not transient(exc):
                raise
            if attempt >= attempts or not can_retry():
                if describe is None:
                    raise
                raise describe(exc, attempt) from exc
            last: BaseException = exc
        except Exception as exc:
            if not transient(exc):
                raise
            if attempt >= attempts or not can_retry():
                error = (
                    describe(exc, attempt) if describe else TransientError(str(exc) or repr(exc))
                )
                raise error from exc
            last = exc
        logger.info("retrying after a transient failure (%s/%s): %r", attempt, attempts, last)
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


class Sessions(Generic[C]):
    """The connections of one file-server storage, and the policy of using them.

    Every operation borrows a connection of ``pool``, runs on it, and gives it back;
    a failure is translated (``translate(exc, conn, name, operation)``) while the
    connection is at hand, since whether it still works decides what the failure
    means. A connection that ``broken(exc, error)`` says is out of step with the
    server is closed, never reused, and the operation is run again on another, up to
    ``attempts`` runs, while the failure is transient and the operation can repeat.

    An upload that failed leaves a temporary file (see :func:`temporary_name`);
    :meth:`abandon` deletes it at once, on another connection if its own is broken,
    and otherwise remembers it, for the next connection borrowed to delete.
    ``remove(conn, path)`` is the protocol's delete, quiet when the file is gone.
    """

    def __init__(
        self,
        pool: ConnectionPool[C],
        *,
        translate: Callable[[BaseException, C | None, str | None, str], BaseException],
        broken: Callable[[BaseException, BaseException], bool],
        remove: Callable[[C, str], None],
        attempts: int = 3,
        describe: Callable[[BaseException, int, str | None, str], StorageError] | None = None,
    ) -> None:
        self.pool = pool
        self.attempts = attempts
        self._translate = translate
        self._is_broken = broken
        self._remove = remove
        self._describe = describe
        #: Temporary files that uploads on a lost connection left behind.
        self.orphans: set[str] = set()
        self._orphans_lock = threading.Lock()

    def run(
        self,
        work: Callable[[C], T],
        *,
        name: str | Callable[[], str] | None = None,
        operation: str,
        can_retry: Callable[[], bool] = lambda: True,
        keep: bool = False,
        broken: Callable[[BaseException, BaseException], bool] | None = None,
    ) -> T:
        """Run ``work`` on a borrowed connection, again on another after a transient failure.

        With ``keep``, the connection of a successful run is not given back: the result
        (an open file) owns it and gives it back when it is closed. ``broken`` replaces
        the storage's test for this operation (an upload whose content failed mid-way).
        ``name`` (for errors) may be a function: asked only when it may be needed (not by
        a run on an idle connection that succeeds).
        """
        # The common case in this frame: an idle connection that passes its check, no
        # orphans to delete first (about a third of the calls of the general path, which
        # an operation right after other work pays for cold: benchmarks/README.md).
        conn = None if self.orphans else self.pool.take_idle()
        if conn is None:
            named = name() if callable(name) else name
            try:
                return self._once(work, named, operation, keep, broken)
            except TransientError as exc:
                failed = exc
        else:
            try:
                result = work(conn)
            except BaseException as exc:
                named = name() if callable(name) else name
                error = self.give_back(conn, exc, named, operation, broken)
                if not isinstance(error, TransientError):
                    if error is exc:
                        raise
                    raise error from exc
                if error is not exc:
                    error.__cause__ = exc  # as ``raise error from exc`` in ``_once``
                failed = error
            else:
                if not keep:
                    self.pool.release(conn)
                return result
        describe = self._describe
        return retrying(
            lambda: self._once(work, named, operation, keep, broken),
            transient=lambda exc: isinstance(exc, TransientError),
            attempts=self.attempts,
            can_retry=can_retry,
            describe=(lambda exc, runs: describe(exc, runs, named, operation))
            if describe
            else None,
            failed=failed,
        )

    def _once(
        self,
        work: Callable[[C], T],
        name: str | None,
        operation: str,
        keep: bool,
        broken: Callable[[BaseException, BaseException], bool] | None,
    ) -> T:
        conn = self.acquire(name, operation)
        try:
            result = work(conn)
        except BaseException as exc:
            error = self.give_back(conn, exc, name, operation, broken)
            if error is exc:
                raise
            raise error from exc
        if not keep:
            self.pool.release(conn)
        return result

    def acquire(self, name: str | None = None, operation: str = "connect") -> C:
        """Borrow a connection, which first deletes the files earlier uploads left behind."""
        try:
            conn = self.pool.acquire()
        except BaseException as exc:
            error = self._translate(exc, None, name, operation)
            if error is exc:
                raise
            raise error from exc
        if self.orphans:
            try:
                self._remove_orphans(conn)
            except BaseException as exc:
                error = self.give_back(conn, exc, name, operation)
                if error is exc:
                    raise
                raise error from exc
        return conn

    def release(self, conn: C) -> None:
        """Give back a connection that is in step with the server."""
        self.pool.release(conn)

    def discard(self, conn: C) -> None:
        """Close a connection that failed, instead of giving it back."""
        self.pool.discard(conn)

    def give_back(
        self,
        conn: C,
        exc: BaseException,
        name: str | None,
        operation: str,
        broken: Callable[[BaseException, BaseException], bool] | None = None,
    ) -> BaseException:
        """Give back ``conn`` after ``exc`` (closed if broken); return the error to raise."""
        error = self._translate(exc, conn, name, operation)
        if (broken or self.broken)(exc, error):
            self.pool.discard(conn)
        else:
            self.pool.release(conn)
        return error

    def broken(self, exc: BaseException, error: BaseException) -> bool:
        """Whether a connection that raised ``exc`` (translated: ``error``) must be closed."""
        return self._is_broken(exc, error)

    def in_step(self, conn: C, exc: BaseException) -> bool:
        """Whether ``conn`` can go on being used after ``exc`` (it is not broken)."""
        return not self.broken(exc, self._translate(exc, conn, None, "save"))

    def abandon(self, conn: C | None, path: str) -> None:
        """Delete the temporary file of a failed upload, now or on a later connection.

        ``conn`` is the upload's connection if it is still in step with the server,
        else None: then a pooled or new connection is tried, once.
        """
        try:
            if conn is not None:
                self._remove(conn, path)
                return
            fresh = self.pool.acquire()
        except Exception:
            self._remember(path)
            return
        try:
            self._remove(fresh, path)
        except BaseException as exc:
            self._remember(path)
            if self.broken(exc, self._translate(exc, fresh, None, "delete")):
                self.pool.discard(fresh)
                return
        self.pool.release(fresh)

    def _remember(self, path: str) -> None:
        with self._orphans_lock:
            self.orphans.add(path)

    def _remove_orphans(self, conn: C) -> None:
        with self._orphans_lock:
            orphans, self.orphans = sorted(self.orphans), set()
        for index, path in enumerate(orphans):
            try:
                self._remove(conn, path)
            except BaseException as exc:
                if self.broken(exc, self._translate(exc, conn, None, "delete")):
                    with self._orphans_lock:  # a later connection tries the rest
                        self.orphans.update(orphans[index:])
                    raise
                logger.warning("could not delete the temporary upload %r: %s", path, exc)

    def close(self) -> None:
        """Close the idle connections; the next operation opens a new one."""
        self.pool.close()


_S = TypeVar("_S", bound="ClosingStorage")


class ClosingStorage:
    """A storage holding connections: ``close()`` them, or use ``with storage: ...``."""

    def close(self) -> None:
        """Close the idle connections; the storage stays usable and reconnects on demand."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
