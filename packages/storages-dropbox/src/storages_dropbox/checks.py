"""Dropbox's system checks and failure diagnoses, registered with ``storages_base.checks``.

The checks read settings only (no network): credentials present, and a warning when
only an access token is set (Dropbox's tokens now expire after about four hours). The
diagnosis turns a failure met by ``storages_check`` into what a person should change.
"""

from __future__ import annotations

from django.core import checks
from django.core.files.storage import Storage
from dropbox.exceptions import AuthError

from storages_base.checks import (
    ConfiguredStorage,
    causes,
    register_diagnosis,
    register_storage_check,
)

from .errors import REFRESH_SETTINGS, tags_of
from .storage import CREDENTIALS_NEEDED, DropboxStorage

__all__ = ["check_dropbox_settings", "explain_dropbox_failure"]


@register_storage_check(DropboxStorage)
def check_dropbox_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """Credentials set; refresh settings alongside a bare access token."""
    token = item.value("oauth2_access_token")
    refresh = item.value("oauth2_refresh_token")
    if not token and not refresh:
        return [
            checks.Error(
                f"{item.label} has no Dropbox credentials.",
                hint=CREDENTIALS_NEEDED[0].upper() + CREDENTIALS_NEEDED[1:],
                id="storages_dropbox.E001",
            )
        ]
    if token and not refresh:
        return [
            checks.Warning(
                f"{item.label} has an access token but no refresh token: Dropbox access "
                "tokens expire after about four hours, and the storage then fails.",
                hint=f"Set {REFRESH_SETTINGS} (see the storages-dropbox README).",
                id="storages_dropbox.W001",
            )
        ]
    return []


@register_diagnosis(DropboxStorage)
def explain_dropbox_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """An expired token, a missing scope, a root folder that is not there."""
    for cause in causes(error):
        if isinstance(cause, AuthError):
            tags = tags_of(cause.error)
            if tags[:1] == ["expired_access_token"]:
                if getattr(storage, "oauth2_refresh_token", None):
                    return "The refreshed token expired again: check the app's refresh token."
                return (
                    "The access token has expired. Dropbox tokens live about four hours: "
                    f"set {REFRESH_SETTINGS} so the storage renews them."
                )
            if tags[:1] == ["missing_scope"]:
                scope = getattr(cause.error.get_missing_scope(), "required_scope", "?")
                return (
                    f"The Dropbox app lacks the permission {scope!r}: tick it in the app "
                    "console's Permissions tab, then issue a new token (old tokens keep "
                    "their old scopes)."
                )
            return "Dropbox refused the token: check DROPBOX_OAUTH2_TOKEN (or the app key)."
    root = getattr(storage, "root_path", "/")
    if isinstance(error, FileNotFoundError) and root not in ("", "/"):
        return (
            f"Check that the root folder {root!r} exists in this Dropbox (an app with "
            "'App folder' access sees paths relative to its own folder: '/' is that folder)."
        )
    return None
