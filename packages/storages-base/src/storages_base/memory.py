"""An in-memory backend: the reference every other backend is measured against.

It passes the whole conformance suite with no server, and is handy in a project's
own tests (``STORAGES = {"default": {"BACKEND": "storages_base.memory.MemoryStorage"}}``).
Files live in named buckets of this process: storages built with the same ``bucket``
share files (as two storages on one server do), and so does a pickled copy.
"""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import datetime, timezone
from typing import IO, Any, ClassVar

from django.conf import settings

from .content import gzip_original_size
from .errors import AlreadyExistsError
from .files import Stat
from .options import Option
from .storage import BASE_OPTIONS, GZIP_OPTIONS, BaseStorage, Capabilities, WriteRequest
from .urls import published_url

__all__ = ["MemoryStorage"]


class _Bucket:
    """The files of one bucket, guarded by one lock."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, Stat]] = {}
        self.tokens: dict[str, str] = {}  # the WriteRequest.token that stored each file
        self.lock = threading.Lock()


_BUCKETS: dict[str, _Bucket] = {}
_BUCKETS_LOCK = threading.Lock()


def _bucket(name: str) -> _Bucket:
    with _BUCKETS_LOCK:
        return _BUCKETS.setdefault(name, _Bucket())


class MemoryStorage(BaseStorage):
    """Files kept in memory, in the bucket named by the ``bucket`` option."""

    backend_name = "memory"
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True, idempotent_create=True, created_time=True, accessed_time=True
    )
    options = BASE_OPTIONS.extend(
        *GZIP_OPTIONS,
        Option(
            "bucket",
            "MEMORY_STORAGE_BUCKET",
            "default",
            "Name of the in-memory bucket; storages with the same bucket share files.",
        ),
        Option(
            "base_url",
            "MEMORY_STORAGE_BASE_URL",
            lambda: settings.MEDIA_URL,
            "URL prefix of url().",
            doc_default="`MEDIA_URL`",
        ),
    )
    bucket: str
    base_url: str

    @property
    def _memory(self) -> _Bucket:
        return _bucket(self.bucket)

    def clear(self) -> None:
        """Forget every file of this storage's bucket (handy between tests)."""
        store = self._memory
        with store.lock:
            store.files.clear()
            store.tokens.clear()

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        data, stat = self._entry(key, "open")
        store = self._memory
        with store.lock:
            store.files[key] = (data, replace(stat, accessed=_now()))
        return io.BytesIO(data[offset:]), stat

    def _write(self, request: WriteRequest) -> None:
        data = request.content.read()
        now = _now()
        store = self._memory
        with store.lock:
            existing = store.files.get(request.key)
            if existing is not None and request.exclusive:
                raise AlreadyExistsError(
                    "File exists",
                    name=self._name_for_key(request.key),
                    operation="save",
                    backend=self.backend_name,
                )
            gzipped = request.content_encoding == "gzip" and len(data) >= 18
            stat = Stat(
                size=gzip_original_size(data) if gzipped else len(data),
                modified=now,
                created=existing[1].created if existing else now,
                accessed=now,
                content_type=request.content_type,
                content_encoding=request.content_encoding,
            )
            store.files[request.key] = (data, stat)
            store.tokens[request.key] = request.token

    def _is_own_write(self, request: WriteRequest, error: AlreadyExistsError) -> bool:
        """The file at the key was stored by this very request (its token)."""
        store = self._memory
        with store.lock:
            return store.tokens.get(request.key) == request.token

    def _stat(self, key: str) -> Stat:
        return self._entry(key, "stat")[1]

    def _delete(self, key: str) -> None:
        store = self._memory
        with store.lock:
            store.files.pop(key, None)
            store.tokens.pop(key, None)

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: set[str] = set()
        files: set[str] = set()
        store = self._memory
        with store.lock:
            keys = list(store.files)
        for key in keys:
            if key.startswith(prefix):
                head, sep, _rest = key[len(prefix) :].partition("/")
                (folders if sep else files).add(head)
        return sorted(folders), sorted(files)

    def _scan(self, prefix: str) -> list[tuple[str, Stat]]:
        store = self._memory
        with store.lock:
            return [(key, stat) for key, (_, stat) in store.files.items() if key.startswith(prefix)]

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(
            self.base_url, self._name_for_key(key), setting="MEMORY_STORAGE_BASE_URL"
        )

    def _entry(self, key: str, operation: str) -> tuple[bytes, Stat]:
        store = self._memory
        with store.lock:
            entry = store.files.get(key)
        if entry is None:
            raise self._not_found(key, operation)
        return entry


def _now() -> datetime:
    return datetime.now(timezone.utc)
