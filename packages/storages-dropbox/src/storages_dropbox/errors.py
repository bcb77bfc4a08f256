"""The ``dropbox`` SDK's typed errors -> the common error vocabulary.

Dropbox answers a route error with HTTP 409 and a tagged union (``path/not_found``,
``path/conflict/file``); the SDK raises ``ApiError`` holding it. Its tags are read as
a path (``tags_of``) and mapped by their meaning; the HTTP-level errors (401, 429, 5xx)
go by status through storages-base's ``error_for_status``. Messages never carry a token.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import requests
from dropbox.exceptions import (
    ApiError,
    AuthError,
    BadInputError,
    DropboxException,
    HttpError,
    RateLimitError,
)
from stone.backends.python_rsrc.stone_base import Struct, Union

from storages_base.errors import (
    AlreadyExistsError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StorageError,
    TransientError,
    error_for_status,
    translating,
)

__all__ = ["dropbox_errors", "tags_of", "translate"]

#: Route-error tags and what they mean, looked up from the innermost tag outwards.
_TAGS: dict[str, type[StorageError]] = {
    "not_found": NotFoundError,
    "not_file": NotFoundError,  # a folder where a file was asked for
    "not_folder": NotFoundError,  # a file where a folder was listed: no such folder
    "conflict": AlreadyExistsError,
    "no_write_permission": PermissionDeniedError,
    "restricted_content": PermissionDeniedError,
    "content_hash_mismatch": IntegrityError,
    "too_many_write_operations": TransientError,
    "incorrect_offset": TransientError,
}

REFRESH_SETTINGS = "DROPBOX_APP_KEY, DROPBOX_APP_SECRET and DROPBOX_OAUTH2_REFRESH_TOKEN"


def tags_of(error: Any) -> list[str]:
    """The tags of a Dropbox error union, outermost first (``["path", "not_found"]``)."""
    tags: list[str] = []
    while error is not None and len(tags) < 10:
        if isinstance(error, Union):
            tags.append(error._tag)
            error = error._value
        elif isinstance(error, Struct):
            fields = getattr(error, "_all_field_names_", ())
            error = next(
                (v for f in sorted(fields) if isinstance(v := getattr(error, f, None), Union)),
                None,
            )
        else:
            break
    return tags


def _auth_message(exc: AuthError) -> tuple[type[StorageError], str]:
    tags = tags_of(exc.error)
    tag = tags[0] if tags else "other"
    if tag == "expired_access_token":
        return PermissionDeniedError, (
            "The Dropbox access token has expired; Dropbox issues short-lived tokens, so "
            f"set {REFRESH_SETTINGS} to renew them"
        )
    if tag == "missing_scope":
        scope = getattr(exc.error.get_missing_scope(), "required_scope", "?")
        return PermissionDeniedError, (
            f"The Dropbox app lacks the scope {scope!r}: enable it in the app console "
            "(Permissions tab), then issue a new token"
        )
    return PermissionDeniedError, f"Dropbox refused the credentials ({tag})"


def translate(
    exc: BaseException, *, name: str | None, operation: str, exclusive: bool = False
) -> StorageError:
    """Return the storage error for an SDK or transport exception (the caller chains it)."""
    context: dict[str, Any] = {"name": name, "operation": operation, "backend": "dropbox"}
    if isinstance(exc, ApiError):
        tags = tags_of(exc.error)
        cls = next((_TAGS[t] for t in reversed(tags) if t in _TAGS), StorageError)
        if cls is AlreadyExistsError and not exclusive:
            cls = PreconditionFailedError  # an update whose revision is no longer current
        summary = "/".join(tags) or "error"
        message = {NotFoundError: "No such file", AlreadyExistsError: "File exists"}.get(cls)
        return cls(message or f"Dropbox refused the call ({summary})", **context)
    if isinstance(exc, AuthError):
        cls, message = _auth_message(exc)
        return cls(message, **context)
    if isinstance(exc, RateLimitError):
        return TransientError(f"Dropbox rate limit (retry after {exc.backoff} s)", **context)
    if isinstance(exc, BadInputError):
        return StorageError(f"Dropbox refused the request: {exc.message}", **context)
    if isinstance(exc, HttpError):
        cls = error_for_status(exc.status_code)
        return cls(f"Dropbox answered HTTP {exc.status_code}", **context)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return TransientError(f"No answer from Dropbox: {type(exc).__name__}", **context)
    return StorageError(f"{type(exc).__name__}: {exc}", **context)


def dropbox_errors(
    operation: str, name: str | None, exclusive: bool = False
) -> AbstractContextManager[None]:
    """Translate the SDK's and the transport's errors raised in the block, chained."""
    return translating(
        (DropboxException, requests.RequestException),
        lambda exc: translate(exc, name=name, operation=operation, exclusive=exclusive),
    )
