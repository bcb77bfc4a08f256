"""Concurrent uploads for ``collectstatic``: its copies are sent while the next are read.

``collectstatic`` saves one file after another, so each file waits for the previous
file's request. A storage that sets ``collectstatic_concurrency`` (the static storages
do) lets those saves run on a few threads instead, but only saves made by Django's own
``collectstatic`` command that will call the storage's ``post_process()`` afterwards:
``post_process()`` waits for every upload and raises the first error, so the command
still fails when an upload does. Any other use of a name being uploaded waits for it.
A file is read into memory before ``save()`` returns (the command closes it), so only
files up to ``MAX_DEFERRED_SIZE`` are deferred, and at most a few per thread at a time.

Manifest storages (``storages_base.manifest.ManifestFilesMixin``): the saves Django's
``HashedFilesMixin`` makes while post-processing are deferred too, and all are waited for
before the manifest is written. That mixin deletes every CSS/JS hashed file and saves it
again, changed or not; such a delete is held back until the save that follows: the same
bytes (the MD5 of what was just uploaded, or the backend's ``_same_content`` against the
listing) make both a no-op, an overwriting save replaces it, anything else carries it out.

:class:`CollectstaticUploads` is the storage side, a part of ``BaseStorage``.
"""

from __future__ import annotations

import hashlib
import io
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.staticfiles.storage import HashedFilesMixin

from .clients import client_property
from .content import known_size, rewindable
from .files import Stat
from .manifest import ManifestFilesMixin

if TYPE_CHECKING:
    from .preload import MetadataPreload

__all__ = [
    "MAX_DEFERRED_SIZE",
    "CollectstaticUploads",
    "DeferredUploads",
    "called_by_collectstatic",
    "called_by_hashed_post_process",
    "called_by_manifest_post_process",
]

MAX_DEFERRED_SIZE = 1024 * 1024
_COMMAND_MODULE = "django.contrib.staticfiles.management.commands.collectstatic"
_HASHED_MODULE = "django.contrib.staticfiles.storage"


def called_by_collectstatic() -> bool:
    """Whether Django's collectstatic is copying a file, and will call post_process()."""
    frame = _caller("copy_file", _COMMAND_MODULE)
    return frame is not None and bool(getattr(frame.f_locals.get("self"), "post_process", False))


def called_by_hashed_post_process() -> bool:
    """Whether Django's HashedFilesMixin is saving a hashed copy in post_process()."""
    return _caller("_post_process", _HASHED_MODULE) is not None


def called_by_manifest_post_process() -> bool:
    """Whether Django's HashedFilesMixin is post-processing or saving its manifest (both
    delete a file, then save it again)."""
    return any(_caller(f, _HASHED_MODULE) is not None for f in ("_post_process", "save_manifest"))


def _caller(function: str, module: str) -> Any:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == function and frame.f_globals.get("__name__") == module:
            return frame
        frame = frame.f_back  # type: ignore[assignment]
    return None


class DeferredUploads:
    """Uploads in flight, by key, on a small pool of threads."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="storages-upload")
        self._slots = threading.BoundedSemaphore(workers * 4)  # bounds the bytes held
        self._lock = threading.Lock()
        self._pending: dict[str, Future[None]] = {}

    def submit(self, key: str, upload: Callable[[], Any]) -> None:
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


class CollectstaticUploads:
    """The storage side of the above, mixed into :class:`~storages_base.BaseStorage`."""

    #: Threads uploading collectstatic's copies concurrently (0: one after another).
    collectstatic_concurrency: ClassVar[int] = 0

    if TYPE_CHECKING:  # BaseStorage's, which this is a part of
        file_overwrite: bool
        _preload: MetadataPreload | None

        def _key(self, name: str) -> str: ...
        def _delete(self, key: str) -> None: ...
        def _store(
            self, key: str, content: Any, exclusive: bool = False, name: str = ""
        ) -> None: ...

    @client_property
    def _deferred(self) -> DeferredUploads | None:
        workers = self.collectstatic_concurrency
        if workers <= 0 or _unsettled_hashing(self):
            return None
        return DeferredUploads(workers)

    def _defer(self, name: str, content: Any) -> bool:
        """Hand a small file collectstatic copies to the upload threads (read now: the
        command closes it when save() returns)."""
        deferred = self._deferred
        if deferred is None or not self.file_overwrite:
            return False
        if not called_by_collectstatic() and not (
            isinstance(self, ManifestFilesMixin) and called_by_hashed_post_process()
        ):
            return False
        size = known_size(content)
        if size is None or size > MAX_DEFERRED_SIZE:
            return False
        if rewindable(content):
            content.seek(0)
        data = content.read()
        if not isinstance(data, bytes):
            return False
        key = self._key(name)

        def upload() -> None:
            self._store(key, io.BytesIO(data), name=name)
            self._stored_digests[key] = _md5(data)

        deferred.submit(key, upload)
        return True

    @client_property
    def _stored_digests(self) -> dict[str, str]:
        """The MD5 of each small file uploaded on the threads, by key: a manifest storage
        that deletes and saves it again with the same bytes then skips both (_hold_delete)."""
        return {}

    def _settle(self, key: str | None = None) -> None:
        """Before using ``key`` (every key when None): carry out a held delete, and wait
        for a deferred upload."""
        held = self.__dict__.pop("_held_delete", None)
        if held is not None:
            self._delete(held[0])
            self._stored_digests.pop(held[0], None)
            if self._preload is not None:
                self._preload.deleted(held[0])
        deferred = self._deferred
        if deferred is not None:
            deferred.wait(key) if key is not None else deferred.wait_all()

    def _hold_delete(self, key: str) -> bool:
        """Hold back a manifest storage's delete of a file it is about to save again."""
        preload = self._preload
        if preload is None or not called_by_manifest_post_process():
            return False
        known: Stat | str | None = self._stored_digests.get(key)
        if known is None:
            stat = preload.lookup(key)
            if not isinstance(stat, Stat) or not stat.etag:
                return False
            known = stat
        self.__dict__["_held_delete"] = (key, known)
        return True

    def _release_held_delete(self, key: str) -> None:
        held = self.__dict__.get("_held_delete")
        if held is not None and held[0] == key:
            del self.__dict__["_held_delete"]

    def _resave_is_same(self, key: str, content: Any) -> bool:
        """Whether saving ``content`` at ``key`` replaces a held-back delete of the same bytes."""
        held = self.__dict__.get("_held_delete")
        if held is None or held[0] != key or not rewindable(content):
            return False
        content.seek(0)
        data = content.read()
        content.seek(0)
        if not isinstance(data, bytes):
            return False
        known = held[1]  # the MD5 we uploaded, or the listing's stat
        same = known == _md5(data) if isinstance(known, str) else self._same_content(known, data)
        if same:
            del self.__dict__["_held_delete"]
        return same

    def _same_content(self, stat: Stat, data: bytes) -> bool:
        """Optional: whether the stored file of ``stat`` holds exactly ``data`` (by its etag)."""
        return False

    def post_process(self, paths: Any, dry_run: bool = False, **options: Any) -> Any:
        """Called by collectstatic once it has copied every file: wait for the uploads
        (their first error fails the command). Nothing is post-processed."""
        self._settle()
        return iter(())


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _unsettled_hashing(storage: object) -> bool:
    """Whether Django's own ``HashedFilesMixin`` post-processes ``storage``: its
    ``post_process()`` would not wait for uploads (this package's ManifestFilesMixin does)."""
    return isinstance(storage, HashedFilesMixin) and not isinstance(storage, ManifestFilesMixin)
