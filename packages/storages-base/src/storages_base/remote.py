"""Shared machinery of the file-server backends (FTP, SFTP): connections and uploads.

File servers differ from object stores in three ways this module handles once:

* a connection is a stateful session that one thread uses at a time, so a storage
  keeps a small :class:`ConnectionPool` of them instead of one shared client;
* sessions drop (idle timeouts, server restarts), so operations go through
  :func:`retrying`, which reconnects a bounded number of times and then raises a
  :class:`~storages_base.errors.TransientError`;
* a file being written is visible while it is written, so uploads go to a
  :func:`temporary_name` in the same folder and are renamed into place at the end
  (listings hide those names with :func:`is_temporary_name`).

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

__all__ = ["ClosingStorage", "ConnectionPool", "is_temporary_name", "retrying", "temporary_name"]

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
    return bool(_TEMPORARY.match(name))


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
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, since = self._idle.pop()
            if self._check is None or time.monotonic() - since < self._check_after:
                return conn
            try:
                self._check(conn)
            except Exception:
                self.discard(conn)
            else:
                return conn
        return self._connect()

    def release(self, conn: C) -> None:
        """Give ``conn`` back for reuse (or close it when enough are idle)."""
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        self.discard(conn)

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
) -> T:
    """Run ``operation``; on a transient failure retry it, up to ``attempts`` runs in all.

    Waits ``backoff`` seconds, doubling, between runs. When the runs are spent (or
    ``can_retry()`` says the operation cannot be repeated, e.g. a consumed upload
    stream), raise ``describe(exc, runs)`` — a :class:`TransientError` by default —
    chained to the last failure. Non-transient errors pass through at once.
    """
    delay = backoff
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            return operation()
        except StorageError as exc:
            if not transient(exc) or attempt >= attempts or not can_retry():
                raise
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
