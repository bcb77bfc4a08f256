"""Batched uploads: ``with storage.batch(): storage.save(...)`` uploads concurrently.

A remote store answers each ``save()`` after a round trip, so saving many files one after
another waits for each in turn. Inside ``storage.batch()`` the saves of that storage go to
a few upload threads instead (``batch_concurrency``): ``save()`` returns once the file is
read into memory, and the block's exit waits for every upload and raises the first error
(after all have ended). Memory stays bounded: only files up to ``MAX_BATCHED_SIZE`` are
read and handed over, at most a few per thread at a time; larger ones are saved inline.
Any other use of a name being uploaded (``open``, ``exists``, ``size``, ``delete``, a
modified time) waits for its upload first, so the block reads its own writes.

A batch belongs to the context that opened it (a ``ContextVar``: the thread, or the
asyncio task): another thread using the same storage meanwhile saves inline, as outside
any batch, and does not wait for this batch's uploads. Batches nest; an inner one waits
for its own uploads on exit, and waiting for everything (``listdir``, a manifest) waits
for the outer ones too.

``hold_deletes=True`` (set by :class:`storages_base.manifest.ManifestFilesMixin` while it
post-processes) holds a delete back until the next save: Django's ``HashedFilesMixin``
deletes every CSS/JS hashed file and saves it again, changed or not; the same bytes (the
MD5 of what this batch uploaded, or the backend's ``_same_content`` against the metadata
preload's listing) make both a no-op, an overwriting save replaces it, anything else
carries the delete out.

:class:`BatchUploads` is the storage side, a part of ``BaseStorage``; it imports nothing
of ``storage.py`` (the dependency goes one way).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from .content import known_size, rewindable
from .files import Stat

if TYPE_CHECKING:
    from .preload import MetadataPreload

__all__ = ["DEFAULT_BATCH_CONCURRENCY", "MAX_BATCHED_SIZE", "Batch", "BatchUploads"]

#: Files larger than this are saved inline, even in a batch (they are not held in memory).
MAX_BATCHED_SIZE = 1024 * 1024
#: Upload threads of a batch on a storage that does not set ``batch_concurrency``.
DEFAULT_BATCH_CONCURRENCY = 4
#: Files read and waiting or uploading per thread: bounds a batch's memory.
_SLOTS_PER_THREAD = 4

#: The batches open in this context, innermost last.
_ACTIVE: ContextVar[tuple[Batch, ...]] = ContextVar("storages_base_batches", default=())
#: The batches open in this context, any storage's (empty outside them): asked first by
#: the commonest operations, which skip every batch check when none is open (a C call).
batches_open = _ACTIVE.get


class Batch:
    """The uploads of one ``with storage.batch()`` block, by key, on its own threads."""

    def __init__(self, owner: object, workers: int, hold_deletes: bool = False) -> None:
        self.owner = owner
        self.hold_deletes = hold_deletes
        self._pool = ThreadPoolExecutor(workers, "storages-upload") if workers > 0 else None
        self._slots = threading.BoundedSemaphore(max(workers, 1) * _SLOTS_PER_THREAD)
        self._lock = threading.Lock()
        self._pending: dict[str, Future[None]] = {}
        #: The MD5 of each file this batch uploaded, by key (for a held delete).
        self.digests: dict[str, str] = {}
        #: A delete held back until the next save: (key, the MD5 or stat it had).
        self.held: tuple[str, Stat | str] | None = None

    @property
    def concurrent(self) -> bool:
        return self._pool is not None

    def submit(self, key: str, upload: Callable[[], Any]) -> None:
        """Run ``upload`` on a thread, after any earlier upload of ``key``."""
        assert self._pool is not None
        self.wait(key)
        self._slots.acquire()
        future = self._pool.submit(upload)
        future.add_done_callback(lambda _: self._slots.release())
        with self._lock:
            self._pending[key] = future

    def wait(self, key: str) -> None:
        """Wait for the upload of ``key``, if any; raise its error."""
        with self._lock:
            future = self._pending.pop(key, None)
        if future is not None:
            future.result()

    def wait_all(self) -> None:
        """Wait for every upload; raise the first error (after all have ended)."""
        with self._lock:
            futures, self._pending = list(self._pending.values()), {}
        errors = [exc for future in futures if (exc := future.exception()) is not None]
        if errors:
            raise errors[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


class BatchUploads:
    """The storage side of batches, mixed into :class:`~storages_base.BaseStorage`."""

    #: Upload threads of ``storage.batch()`` (0: a batch saves one file after another;
    #: None: ``DEFAULT_BATCH_CONCURRENCY``). The static storages set more.
    batch_concurrency: ClassVar[int | None] = None
    #: The former name of ``batch_concurrency``, still honoured when a class sets it.
    collectstatic_concurrency: ClassVar[int | None] = None

    if TYPE_CHECKING:  # BaseStorage's, which this is a part of
        file_overwrite: bool
        _preload: MetadataPreload | None

        def _key(self, name: str) -> str: ...
        def _delete_quietly(self, key: str) -> None: ...
        def _store(
            self, key: str, content: Any, exclusive: bool = False, name: str = ""
        ) -> None: ...

    @contextmanager
    def batch(self, *, hold_deletes: bool = False) -> Iterator[Batch]:
        """Upload this storage's saves in the block concurrently; wait for all on exit.

        The exit raises the first upload error once every upload has ended (an error
        already leaving the block is not replaced). See the module docstring.
        """
        current = Batch(self, self._batch_workers(), hold_deletes)
        if not self._batches() and self._preload is not None:
            self._preload.reset()  # each outermost batch lists afresh (on first question)
        token = _ACTIVE.set((*_ACTIVE.get(), current))
        try:
            yield current
        except BaseException:
            with suppress(Exception):  # the block's own error goes on, once uploads ended
                self._settle_batch(current)
            raise
        else:
            self._settle_batch(current)
        finally:
            _ACTIVE.reset(token)
            current.close()

    def _batch_workers(self) -> int:
        legacy = self.collectstatic_concurrency
        workers = self.batch_concurrency if legacy is None else legacy
        return DEFAULT_BATCH_CONCURRENCY if workers is None else workers

    def _batches(self) -> list[Batch]:
        """This storage's batches open in this context, innermost last."""
        active = _ACTIVE.get()
        return [batch for batch in active if batch.owner is self] if active else []

    def _current_batch(self) -> Batch | None:
        active = _ACTIVE.get()
        if not active:  # every operation asks: outside collectstatic, nothing is open
            return None
        for batch in reversed(active):
            if batch.owner is self:
                return batch
        return None

    def _defer(self, name: str, content: Any) -> bool:
        """In a batch, hand a small file to the upload threads (read now: the caller may
        close it when save() returns); False when it must be saved inline."""
        batch = self._current_batch()
        if batch is None:
            return False
        key = self._key(name)
        batch.digests.pop(key, None)  # replaced, by this save or the inline one
        if not batch.concurrent or not self.file_overwrite or not rewindable(content):
            return False
        size = known_size(content)
        if size is None or size > MAX_BATCHED_SIZE:
            return False
        content.seek(0)
        data = content.read()
        if not isinstance(data, bytes):
            content.seek(0)
            return False

        def upload() -> None:
            self._store(key, io.BytesIO(data), name=name)
            if batch.hold_deletes:  # read by held deletes only (46 us per 10 KiB)
                batch.digests[key] = _md5(data)

        batch.submit(key, upload)
        return True

    @property
    def _stored_digests(self) -> dict[str, str]:
        """The MD5s the current batch uploaded, by key (a throwaway dict outside one)."""
        batch = self._current_batch()
        return {} if batch is None else batch.digests

    def _settle(self, key: str | None = None) -> None:
        """Before using ``key`` (every key when None): carry out a held delete, and wait
        for this context's uploads of it."""
        if not _ACTIVE.get():
            return
        for batch in reversed(self._batches()):
            self._settle_batch(batch, key)

    def _settle_batch(self, batch: Batch, key: str | None = None) -> None:
        held, batch.held = batch.held, None
        if held is not None:
            batch.wait(held[0])
            self._delete_quietly(held[0])
            batch.digests.pop(held[0], None)
            if self._preload is not None:
                self._preload.deleted(held[0])
        batch.wait(key) if key is not None else batch.wait_all()

    def _hold_delete(self, key: str) -> bool:
        """In a ``hold_deletes`` batch, hold back the delete of a file about to be saved again."""
        batch = self._current_batch()
        if batch is None or not batch.hold_deletes:
            return False
        known: Stat | str | None = batch.digests.get(key)
        if known is None:
            preload = self._preload
            stat = None if preload is None else preload.lookup(key)
            if not isinstance(stat, Stat) or not stat.etag:
                return False
            known = stat
        batch.held = (key, known)
        return True

    def _delete_is_held(self, key: str) -> bool:
        """Whether the delete of ``key`` is held back (the file is gone, to the caller)."""
        batch = self._current_batch()
        return batch is not None and batch.held is not None and batch.held[0] == key

    def _release_held_delete(self, key: str) -> None:
        batch = self._current_batch()
        if batch is not None and batch.held is not None and batch.held[0] == key:
            batch.held = None

    def _resave_is_same(self, key: str, content: Any) -> bool:
        """Whether saving ``content`` at ``key`` replaces a held-back delete of the same bytes."""
        batch = self._current_batch()
        held = None if batch is None else batch.held
        if batch is None or held is None or held[0] != key or not rewindable(content):
            return False
        content.seek(0)
        data = content.read()
        content.seek(0)
        if not isinstance(data, bytes):
            return False
        known = held[1]  # the MD5 we uploaded, or the listing's stat
        same = known == _md5(data) if isinstance(known, str) else self._same_content(known, data)
        if same:
            batch.held = None
        return same

    def _same_content(self, stat: Stat, data: bytes) -> bool:
        """Optional: whether the stored file of ``stat`` holds exactly ``data`` (by its etag)."""
        return False


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
