"""An in-memory backend: the reference every other backend is measured against.

It passes the whole conformance suite with no server, and is handy in a project's
own tests (``STORAGES = {"default": {"BACKEND": "storages_base.memory.MemoryStorage"}}``).
"""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import datetime, timezone
from typing import IO, Any, ClassVar
from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import filepath_to_uri

from .errors import AlreadyExistsError
from .files import Stat
from .options import Option
from .storage import BASE_OPTIONS, GZIP_OPTIONS, BaseStorage, Capabilities, WriteRequest

__all__ = ["MemoryStorage"]


class MemoryStorage(BaseStorage):
    """Files kept in a dict of this instance (a pickled copy starts empty)."""

    backend_name = "memory"
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True, created_time=True, accessed_time=True
    )
    options = BASE_OPTIONS.extend(
        *GZIP_OPTIONS,
        Option(
            "base_url",
            None,
            lambda: settings.MEDIA_URL,
            "URL prefix of url().",
            doc_default="`MEDIA_URL`",
        ),
    )
    base_url: str

    def configure(self) -> None:
        super().configure()
        self._files: dict[str, tuple[bytes, Stat]] = {}
        self._guard = threading.Lock()

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        data, stat = self._entry(key, "open")
        with self._guard:
            self._files[key] = (data, replace(stat, accessed=_now()))
        return io.BytesIO(data[offset:]), stat

    def _write(self, request: WriteRequest) -> None:
        data = request.content.read()
        now = _now()
        with self._guard:
            existing = self._files.get(request.key)
            if existing is not None and request.exclusive:
                raise AlreadyExistsError(
                    "File exists", name=request.key, operation="save", backend=self.backend_name
                )
            created = existing[1].created if existing else now
            self._files[request.key] = (
                data,
                Stat(
                    size=len(data),
                    modified=now,
                    created=created,
                    accessed=now,
                    content_type=request.content_type,
                    content_encoding=request.content_encoding,
                ),
            )

    def _stat(self, key: str) -> Stat:
        return self._entry(key, "stat")[1]

    def _delete(self, key: str) -> None:
        with self._guard:
            self._files.pop(key, None)

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: set[str] = set()
        files: set[str] = set()
        with self._guard:
            keys = list(self._files)
        for key in keys:
            if not key.startswith(prefix):
                continue
            head, sep, _rest = key[len(prefix) :].partition("/")
            (folders if sep else files).add(head)
        return sorted(folders), sorted(files)

    def _url(self, key: str, **kwargs: Any) -> str:
        return urljoin(self.base_url or "/", filepath_to_uri(self._name_for_key(key)))

    def _entry(self, key: str, operation: str) -> tuple[bytes, Stat]:
        with self._guard:
            entry = self._files.get(key)
        if entry is None or key.endswith("/"):
            raise self._not_found(key, operation)
        return entry

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_guard", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._guard = threading.Lock()


def _now() -> datetime:
    return datetime.now(timezone.utc)
