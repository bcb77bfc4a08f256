"""Concurrent uploads for ``collectstatic``: its copies are sent while the next are read.

``collectstatic`` saves one file after another, so each file waits for the previous
file's request. A storage that sets ``collectstatic_concurrency`` (the static storages
do) lets those saves run on a few threads instead, but only saves made by Django's own
``collectstatic`` command that will call the storage's ``post_process()`` afterwards:
``post_process()`` waits for every upload and raises the first error, so the command
still fails when an upload does. Any other use of a name being uploaded waits for it.
A file is read into memory before ``save()`` returns (the command closes it), so only
files up to ``MAX_DEFERRED_SIZE`` are deferred, and at most a few per thread at a time.

Manifest storages: Django's ``HashedFilesMixin`` deletes every CSS/JS hashed file and saves
it again on every run, changed or not. While it post-processes, such a delete is held back
until the save that follows: the same content (the backend's ``_same_content``) makes both
a no-op; anything else carries the delete out first.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = [
    "MAX_DEFERRED_SIZE",
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
