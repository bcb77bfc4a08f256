"""SDK clients and connections: built lazily, once per storage, shared by threads."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, overload

__all__ = ["KeyLocks", "client_property", "quiet_session_class", "requests_environment"]

T = TypeVar("T")
_LOCK_ATTR = "_storages_client_lock"
_CREATE_LOCK = threading.Lock()


class client_property(Generic[T]):
    """A ``cached_property`` for clients: built on first use under a lock, never twice.

    The value lives in the instance ``__dict__``, so after the first access reads cost
    nothing; :meth:`storages_base.storage.BaseStorage.__getstate__` drops it, so a
    pickled storage rebuilds its client (sockets and locks do not pickle).
    """

    def __init__(self, factory: Callable[[Any], T]) -> None:
        self.factory = factory
        self.attr = factory.__name__
        self.__doc__ = factory.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = name

    @overload
    def __get__(self, obj: None, owner: type) -> client_property[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: object | None, owner: type) -> T | client_property[T]:
        if obj is None:
            return self
        cache = obj.__dict__
        try:
            return cache[self.attr]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with _instance_lock(obj):
            if self.attr not in cache:
                cache[self.attr] = self.factory(obj)
            return cache[self.attr]  # type: ignore[no-any-return]

    @staticmethod
    def names(cls: type) -> list[str]:
        """Return the attribute names of every client property of ``cls``."""
        return [
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, client_property)
        ]

    @staticmethod
    def reset(obj: object) -> None:
        """Forget every built client of ``obj`` (the next access builds a new one)."""
        for name in client_property.names(type(obj)):
            obj.__dict__.pop(name, None)


def _instance_lock(obj: object) -> threading.RLock:
    lock = obj.__dict__.get(_LOCK_ATTR)
    if lock is None:
        with _CREATE_LOCK:
            lock = obj.__dict__.setdefault(_LOCK_ATTR, threading.RLock())
    return lock  # type: ignore[no-any-return]


def drop_unpicklable(state: dict[str, Any], cls: type) -> dict[str, Any]:
    """Return ``state`` without clients and locks, for ``__getstate__``."""
    dropped = set(client_property.names(cls)) | {_LOCK_ATTR}
    return {key: value for key, value in state.items() if key not in dropped}


def requests_environment() -> tuple[bool, str | None]:
    """Whether a requests session of an SDK may stop reading the environment, and the CA
    bundle the environment names (to set once as its ``verify``).

    With ``trust_env`` on, requests looks for proxies twice and for ``~/.netrc`` on every
    request: about a quarter of a small upload's client CPU, to find nothing when no
    proxy is set. Its one other use of the environment is the CA bundle
    (``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE``), which this returns. With a proxy
    set, requests keeps its own handling (``NO_PROXY`` included). A ``~/.netrc`` entry
    is not honoured: its Basic auth would replace the SDK's Authorization header.
    """
    from urllib.request import getproxies

    if getproxies():
        return False, None
    return True, os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


_QUIET_CLASSES: dict[type, type] = {}


def quiet_session_class(base: type) -> type:
    """``base`` (``requests.Session`` or a subclass, e.g. google-auth's
    ``AuthorizedSession``) preparing each request without the session-wide merges it
    has nothing to merge with.

    For every request ``requests.Session`` merges its cookies, headers, params, auth,
    proxies, stream, verify and cert settings with the request's (``merge_setting``: each
    mapping tested against runtime-checked ``Protocol`` s, about 3.6 us a test, eight per
    request) and runs the cookie policy over an empty jar: about 40 us of a 1-2 ms SDK
    request. A session that reads no environment (``trust_env`` off, see
    :func:`requests_environment`), holds no cookies, auth or params, and a request that
    brings no cookies or auth, get the same ``PreparedRequest`` built directly (the same
    headers in the same order, None-valued ones dropped; the URL, body, auth from the
    URL and hooks by requests' own ``prepare_*``); anything else goes the usual way. The
    response path (cookies kept from responses, redirects, hooks) is requests' own.
    """
    mixin = _quiet_mixin()
    if issubclass(base, mixin):
        return base
    quiet = _QUIET_CLASSES.get(base)
    if quiet is None:
        quiet = _QUIET_CLASSES[base] = type(f"Quiet{base.__name__}", (mixin, base), {})
    return quiet


@functools.cache
def _quiet_mixin() -> type:
    from requests import PreparedRequest
    from requests.cookies import RequestsCookieJar
    from requests.sessions import merge_hooks
    from requests.structures import CaseInsensitiveDict

    class QuietSessionMixin:
        trust_env: bool
        auth: Any
        params: Any
        cookies: Any
        headers: Any
        hooks: Any
        proxies: Any
        stream: Any
        verify: Any
        cert: Any

        def prepare_request(self, request: Any) -> Any:
            params = request.params
            if (
                self.trust_env
                or self.auth is not None
                or request.auth is not None
                or self.params
                or len(self.cookies)
                or request.cookies
                or not (params is None or type(params) is dict)
            ):
                return super().prepare_request(request)  # type: ignore[misc]
            headers = CaseInsensitiveDict(self.headers)
            if request.headers:
                headers.update(request.headers)
            for key in [key for key, value in headers.items() if value is None]:
                del headers[key]
            prepared = PreparedRequest()
            prepared.prepare_method(request.method.upper())
            prepared.prepare_url(
                request.url, {k: v for k, v in params.items() if v is not None} if params else {}
            )
            prepared.prepare_headers(headers)
            prepared._cookies = RequestsCookieJar()  # an empty jar adds no Cookie header
            prepared.prepare_body(request.data, request.files, request.json)
            prepared.prepare_auth(None, request.url)  # user:password@ in the URL, as requests
            prepared.prepare_hooks(merge_hooks(request.hooks, self.hooks))
            return prepared

        def merge_environment_settings(
            self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> dict[str, Any]:
            if self.trust_env or proxies or self.proxies:
                return super().merge_environment_settings(  # type: ignore[misc,no-any-return]
                    url, proxies, stream, verify, cert
                )
            return {
                "proxies": self.proxies if proxies is None else proxies,  # both empty
                "stream": self.stream if stream is None else stream,
                "verify": self.verify if verify is None else verify,
                "cert": self.cert if cert is None else cert,
            }

    return QuietSessionMixin


class KeyLocks:
    """One lock per key in use, dropped when no thread holds or waits for it.

    For a create-only write on a server without an atomic one: holding the key's lock
    while checking that the name is free and writing it, the threads of one storage never
    replace each other's file (other processes still can: the backend says so).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
