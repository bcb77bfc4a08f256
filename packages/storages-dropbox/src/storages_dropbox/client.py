"""Building the ``dropbox`` SDK client from a storage's options.

One client per storage, shared by its threads. Two things the SDK does not do as a
storage needs, adjusted in a small subclass:

* a token refresh goes to the configured API host (the SDK binds Dropbox's at import),
  once at a time across threads;
* a 5xx is retried only for calls that are safe to send twice; an upload or a commit
  that got a 5xx may have been stored, so it is reported instead (the SDK retries all);
* a download can start at an offset (a ``Range`` header): ``files_download`` has no
  ``extra_headers`` before dropbox 12.2.2, so the header is added to the client's own
  headers for the calling thread's (context's) one call.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import dropbox
from dropbox.exceptions import HttpError, InternalServerError
from dropbox.session import HOST_API, HOST_CONTENT

if TYPE_CHECKING:
    from .storage import DropboxStorage

__all__ = ["IDEMPOTENT_ROUTES", "DropboxClient", "build_client"]

#: Calls a 5xx may repeat: reads, and an append at an offset (a duplicate is refused).
IDEMPOTENT_ROUTES = frozenset(
    {
        "files/download",
        "files/get_metadata",
        "files/list_folder",
        "files/list_folder/continue",
        "files/delete_v2",
        "files/get_temporary_link",
        "files/upload_session/append_v2",
    }
)


#: Headers for the current context's calls only (the ``Range`` of a ranged download).
_call_headers: ContextVar[dict[str, str] | None] = ContextVar("_call_headers", default=None)


class DropboxClient(dropbox.Dropbox):  # type: ignore[misc]
    """The SDK's client, with host-aware refresh and idempotent-only 5xx retries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refresh_lock = threading.RLock()

    # The SDK reads ``self._headers`` when it builds each request (every 12.x release);
    # the calling context's headers are added to it there.
    @property
    def _headers(self) -> dict[str, str] | None:
        own: dict[str, str] | None = self.__dict__.get("_own_headers")
        extra = _call_headers.get()
        return {**(own or {}), **extra} if extra else own

    @_headers.setter
    def _headers(self, value: dict[str, str] | None) -> None:
        self.__dict__["_own_headers"] = value

    def download_from(self, path: str, offset: int = 0) -> Any:
        """``files_download`` from byte ``offset`` on (a ``Range`` request when > 0)."""
        if not offset:
            return self.files_download(path)
        token = _call_headers.set({"Range": f"bytes={offset}-"})
        try:
            return self.files_download(path)
        finally:
            _call_headers.reset(token)

    def check_and_refresh_access_token(self) -> None:
        # Threads starting together without a token wait for the first one's refresh
        # instead of each fetching a token of its own.
        with self._refresh_lock:
            super().check_and_refresh_access_token()

    def refresh_access_token(self, host: str | None = None, scope: Any = None) -> None:
        with self._refresh_lock:
            super().refresh_access_token(host=host or self._host_map[HOST_API], scope=scope)

    def request_json_string(self, host: str, func_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().request_json_string(host, func_name, *args, **kwargs)
        except InternalServerError as exc:
            if func_name in IDEMPOTENT_ROUTES:
                raise
            # HttpError is not retried by the SDK's loop; the cause stays visible.
            raise HttpError(exc.request_id, exc.status_code, exc.body) from exc


def build_client(storage: DropboxStorage) -> DropboxClient:
    """Return the storage's client (no request is made here)."""
    session = None
    if storage.ca_bundle:
        session = dropbox.create_session(ca_certs=storage.ca_bundle)
        session.verify = storage.ca_bundle
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over verify
    client = DropboxClient(
        oauth2_access_token=storage.oauth2_access_token,
        oauth2_refresh_token=storage.oauth2_refresh_token,
        app_key=storage.app_key,
        app_secret=storage.app_secret,
        timeout=storage.timeout,
        max_retries_on_error=storage.max_retries,
        max_retries_on_rate_limit=storage.max_retries,
        session=session,
        user_agent="storages-dropbox",
    )
    if storage.api_host:
        client._host_map[HOST_API] = storage.api_host
        client._host_map[HOST_CONTENT] = storage.content_host or storage.api_host
    elif storage.content_host:
        client._host_map[HOST_CONTENT] = storage.content_host
    return client
