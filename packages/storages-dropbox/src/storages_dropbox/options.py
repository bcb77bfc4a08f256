"""The options of ``DropboxStorage``: django-storages' names and defaults, plus a few of ours.

``location`` (a folder under ``root_path``, relative) and ``file_overwrite`` come from
storages-base; ``file_overwrite`` left unset follows ``write_mode`` (``add`` keeps
existing files, ``overwrite`` and ``update`` replace them).
"""

from __future__ import annotations

from storages_base import BASE_OPTIONS
from storages_base.options import Option

__all__ = ["DROPBOX_OPTIONS", "WRITE_MODES"]

WRITE_MODES = ("add", "overwrite", "update")

DROPBOX_OPTIONS = BASE_OPTIONS.extend(
    Option(
        "file_overwrite",
        None,
        None,
        "Save over an existing file of the same name; unset, it follows `write_mode` "
        "(`add`: keep it and pick a free name, atomically).",
    ),
    Option(
        "oauth2_access_token",
        "DROPBOX_OAUTH2_TOKEN",
        None,
        "Access token; short-lived nowadays: prefer the refresh-token triple below.",
        env=("DROPBOX_OAUTH2_TOKEN",),
        secret=True,
    ),
    Option("app_key", "DROPBOX_APP_KEY", None, "App key, to refresh the access token."),
    Option(
        "app_secret",
        "DROPBOX_APP_SECRET",
        None,
        "App secret, to refresh the access token.",
        secret=True,
    ),
    Option(
        "oauth2_refresh_token",
        "DROPBOX_OAUTH2_REFRESH_TOKEN",
        None,
        "Refresh token: with the app key and secret, access tokens are renewed as they expire.",
        secret=True,
    ),
    Option(
        "root_path",
        "DROPBOX_ROOT_PATH",
        "/",
        "Folder of the Dropbox every name lives under; must start with `/`.",
    ),
    Option(
        "timeout",
        "DROPBOX_TIMEOUT",
        100,
        "Seconds to wait for any one packet of a response (None waits forever).",
    ),
    Option(
        "write_mode",
        "DROPBOX_WRITE_MODE",
        "add",
        "`add` never replaces a file; `overwrite` replaces it; `update` replaces the "
        "revision read just before (a file changed meanwhile is refused).",
    ),
    Option(
        "url_reuse_window",
        "DROPBOX_URL_REUSE_WINDOW",
        None,
        "Seconds a temporary link is handed out again for the same name (default a "
        "quarter of its 4 hours, at most 900); 0 asks Dropbox for every `url()`.",
    ),
    Option(
        "max_retries",
        "DROPBOX_MAX_RETRIES",
        4,
        "Retries of a rate-limited call (429, after its Retry-After) and of an "
        "idempotent call that got a 5xx.",
    ),
    Option(
        "api_host",
        "DROPBOX_API_HOST",
        None,
        "`host[:port]` of the API instead of Dropbox's (a local test server).",
    ),
    Option(
        "content_host",
        "DROPBOX_API_CONTENT_HOST",
        None,
        "`host[:port]` of uploads and downloads; defaults to `api_host` when that is set.",
    ),
    Option(
        "ca_bundle",
        "DROPBOX_CA_BUNDLE",
        None,
        "CA certificates (PEM path) to trust instead of the system's and "
        "`REQUESTS_CA_BUNDLE` (a local test server).",
    ),
)
