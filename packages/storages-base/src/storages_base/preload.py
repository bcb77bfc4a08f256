"""One listing of the location that answers ``exists()`` and modified times for every file.

``collectstatic`` asks ``exists()`` and ``get_modified_time()`` of each file it collects:
two requests per file on an object store, minutes for a few thousand files. A recursive
listing answers both for a thousand files per request. A storage opts in with
``preload_metadata = True`` (the static storages do) and a backend provides it by
implementing ``_scan``.

It answers only inside ``storage.batch()`` (the collectstatic command opens one), from a
listing taken afresh by each outermost batch and at most ``preload_metadata_max_age``
seconds old; files this storage writes or deletes itself are tracked, so its own work
never reads a stale answer. Outside a batch (a web worker next to the process that ran
collectstatic) the server answers, and nothing lists the location on a request path. A
miss asked for a modified time is confirmed by the server. Sizes are not answered from
it: a listing does not tell a gzipped file's decoded size.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from .files import Stat

__all__ = ["UNKNOWN", "MetadataPreload"]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


#: The preload cannot tell: ask the server.
UNKNOWN = _Unknown()


class MetadataPreload:
    """The files under the location as listed once, then kept current by our own writes."""

    def __init__(self, scan: Callable[[], Iterable[tuple[str, Stat]]], max_age: float) -> None:
        self._scan = scan
        self._max_age = max_age
        self._lock = threading.Lock()
        self._files: dict[str, Stat] | None = None
        self._taken = 0.0
        self._unknown: set[str] = set()  # being written: only the server knows
        self._written: set[str] = set()  # written by us since: exists, time unknown

    def exists(self, key: str) -> bool | _Unknown:
        """Whether the file exists, or UNKNOWN."""
        known = self.lookup(key)
        if key in self._written:
            return True
        return known if known is UNKNOWN else known is not None

    def lookup(self, key: str) -> Stat | _Unknown | None:
        """The file's stat, None when it did not exist, or UNKNOWN when only the server knows."""
        with self._lock:
            if self._files is None or time.monotonic() - self._taken > self._max_age:
                self._files = dict(self._scan())
                self._taken = time.monotonic()
                self._unknown.clear()
                self._written.clear()
            if key in self._unknown or key in self._written:
                return UNKNOWN
            return self._files.get(key)

    def reset(self) -> None:
        """Drop the listing: the next question lists again."""
        with self._lock:
            self._files = None
            self._unknown.clear()
            self._written.clear()

    def forget(self, key: str) -> None:
        """``key`` is being written: its state is the server's to tell from now on."""
        with self._lock:
            if self._files is not None:
                self._unknown.add(key)

    def written(self, key: str) -> None:
        """``key`` was stored by this storage: it exists (its time is the server's)."""
        with self._lock:
            if self._files is not None:
                self._unknown.discard(key)
                self._written.add(key)

    def deleted(self, key: str) -> None:
        """``key`` was deleted by this storage."""
        with self._lock:
            if self._files is not None:
                self._files.pop(key, None)
                self._unknown.discard(key)
                self._written.discard(key)
