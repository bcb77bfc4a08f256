"""Signed URLs that stay the same for a while, so browsers and CDNs can cache the files.

A signed URL carries the instant it was signed, so a page of 100 private images gets
100 new URLs on every load: nothing a browser or a CDN downloaded is ever reused, and
the server signs every URL again. A *reuse window* fixes that: the signing instant is
rounded down to a multiple of the window and the expiry counted from there, so every
``url(name)`` asked within one window returns the same URL, in every process, valid
for at least ``expire - window`` seconds. Within a process the URL is also kept in a
small cache, so a repeated ``url()`` costs a lookup instead of a signature.

A provider gives its signer (``build(instant) -> url``) to :meth:`SignedUrlCache.url`;
:func:`reuse_window` resolves and checks the storage's window once, at construction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = ["DEFAULT_MAX_WINDOW", "MAX_ENTRIES", "SignedUrlCache", "reuse_window"]

#: The longest window chosen when none is configured (a quarter of the expiry, at most
#: this): a URL then always lives at least three quarters of the time asked.
DEFAULT_MAX_WINDOW = 900
#: URLs kept per storage; the oldest go first.
MAX_ENTRIES = 4096


def reuse_window(window: Any, expire: int, *, setting: str, expire_setting: str) -> int:
    """Return the window (seconds) for URLs of ``expire`` seconds; 0 turns reuse off.

    ``None`` chooses a quarter of the expiry, at most :data:`DEFAULT_MAX_WINDOW`. A
    window not shorter than the expiry would hand out URLs that have already expired:
    it is refused, naming both settings.
    """
    if window is None:
        return min(DEFAULT_MAX_WINDOW, max(int(expire), 0) // 4)
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise ImproperlyConfigured(
            f"{setting} must be a whole number of seconds (0 turns URL reuse off), not {window!r}."
        )
    if window and window >= expire:
        raise ImproperlyConfigured(
            f"{setting} ({window} s) must be shorter than {expire_setting} ({expire} s): "
            "a URL handed out at the end of a window would already have expired. "
            f"Use at most a quarter of the expiry, e.g. {expire // 4}."
        )
    return window


def _frozen(value: Any) -> Hashable:
    """``value`` as a cache key part (dicts as sorted items); unhashable raises TypeError."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    hash(value)
    return value  # type: ignore[no-any-return]


class SignedUrlCache:
    """The signed URLs of one storage for the current window, bounded and thread-safe.

    A hit is one dictionary lookup, without a lock (a dict read is atomic); a miss signs
    outside the lock, then stores under it (with ``remote``, threads missing the same URL
    at once share one signer call: IAM signBlob, a Dropbox link). Full, it drops its
    oldest URLs first; a new window drops them all (they are not asked again).
    """

    def __init__(
        self, window: int, max_entries: int = MAX_ENTRIES, *, remote: bool = False
    ) -> None:
        self.window = window
        self.max_entries = max_entries
        self._urls: dict[Hashable, str] = {}
        self._start: float | None = None  # the window the cached URLs were signed in
        self._lock = threading.Lock()
        # ``remote``: a URL costs a remote call (IAM signBlob, a Dropbox link), so threads
        # missing the same URL at once wait for the first one's call instead of each making it.
        self._pending: dict[Hashable, threading.Event] | None = {} if remote else None

    def instant(self, now: float, expire: int) -> float:
        """The signing instant of a URL asked at ``now``: the start of its window."""
        return _start(now, self.window_for(expire))

    def window_for(self, expire: int) -> int:
        """The window of a URL of ``expire`` seconds: a shorter expiry asked in a call
        than the storage's gets a quarter of it, so no URL is handed out expired."""
        return self.window if self.window < expire else expire // 4

    def url(self, what: Any, expire: int, now: float, build: Callable[[float], str]) -> str:
        """Return the URL of ``what`` (name, parameters, method...) signed at this window's
        start by ``build(instant)``, signing it only the first time in the window."""
        window = self.window if self.window < expire else expire // 4
        if not window:
            return build(now)
        instant = float(int(now // window) * window)
        key: Hashable = (what, expire, instant)
        try:
            url = self._urls.get(key)
        except TypeError:  # a dict of parameters: the same key, by value
            try:
                key = (_frozen(what), expire, instant)
            except TypeError:  # a value that cannot be a key: sign, do not keep
                return build(instant)
            url = self._urls.get(key)
        if url is not None:
            return url
        if self._pending is not None:
            return self._fetch_once(key, now, instant, build)
        url = build(instant)  # outside the lock: threads sign in parallel, identically
        self._store(key, url, now, instant)
        return url

    def _fetch_once(
        self, key: Hashable, now: float, instant: float, build: Callable[[float], str]
    ) -> str:
        """A miss of a remote signer: one thread builds, the others asking for the same
        URL wait for it (if it fails, the next of them tries in its turn)."""
        assert self._pending is not None
        with self._lock:
            url = self._urls.get(key)
            if url is not None:
                return url
            event = self._pending.get(key)
            leader = event is None
            if event is None:
                event = self._pending[key] = threading.Event()
        if not leader:
            event.wait()
            url = self._urls.get(key)
            return url if url is not None else self._fetch_once(key, now, instant, build)
        try:
            url = build(instant)
            self._store(key, url, now, instant)
        finally:
            with self._lock:
                del self._pending[key]
            event.set()
        return url

    def _store(self, key: Hashable, url: str, now: float, instant: float) -> None:
        with self._lock:
            urls = self._urls
            if self._start != instant and instant == _start(now, self.window):
                urls.clear()  # a new window: the old URLs are not asked again
                self._start = instant
            urls[key] = url
            while len(urls) > self.max_entries:
                del urls[next(iter(urls))]

    def __len__(self) -> int:
        return len(self._urls)


def _start(now: float, window: int) -> float:
    """``now`` rounded down to a multiple of ``window`` (whole seconds); ``now`` if 0."""
    return float(int(now // window) * window) if window else now
