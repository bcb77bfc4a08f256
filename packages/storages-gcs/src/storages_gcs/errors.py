"""GCS errors -> the common error vocabulary, by HTTP status first.

The SDK raises ``google.api_core`` exceptions (with ``code``, the HTTP status); the
requests this package sends itself (ranged reads, resumable chunks) give a
``requests`` response. Both end in :func:`translate`. A 403 names the IAM permission
the operation needs (``storage.objects.delete``...), which is what a person must grant.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from typing import Any

from storages_base.errors import (
    AlreadyExistsError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    TransientError,
    error_for_status,
    translating,
)

__all__ = ["PERMISSIONS", "GCSHttpError", "gcs_errors", "raise_for_response", "translate"]

#: The IAM permissions each storage operation needs.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "open": ("storage.objects.get",),
    "stat": ("storage.objects.get",),
    "exists": ("storage.objects.get",),
    "save": ("storage.objects.create",),
    "overwrite": ("storage.objects.create", "storage.objects.delete"),
    "delete": ("storage.objects.delete",),
    "listdir": ("storage.objects.list",),
    "bucket": ("storage.buckets.get",),
    "sign": ("iam.serviceAccounts.signBlob",),
}


#: GCS's 400 when the bytes it received do not have the hash the request gave
#: ("Provided CRC32C ... doesn't match calculated CRC32C ...", the same for MD5).
_CHECKSUM_REFUSED = re.compile(r"Provided (CRC32C|MD5)")


class GCSHttpError(Exception):
    """A GCS answer with an error status, to requests this package sends itself."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.code = status
        self.reason = reason
        self.message = message


def raise_for_response(response: Any) -> None:
    """Raise :class:`GCSHttpError` for a ``requests`` response with an error status."""
    status = int(response.status_code)
    if status < 400:
        return
    reason, message = "", response.reason or ""
    try:
        error = json.loads(response.content or b"{}").get("error", {})
        message = error.get("message") or message
        reason = (error.get("errors") or [{}])[0].get("reason", "")
    except (ValueError, AttributeError):
        pass
    raise GCSHttpError(status, reason, message)


def _status_and_reason(exc: BaseException) -> tuple[int | None, str]:
    code = getattr(exc, "code", None)
    status = int(code) if isinstance(code, int) else None
    reason = getattr(exc, "reason", None)
    if not isinstance(reason, str):
        errors = getattr(exc, "errors", None) or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        reason = str(first.get("reason", ""))
    return status, reason


def translate(
    exc: BaseException,
    *,
    name: str | None,
    operation: str,
    bucket: str | None = None,
    exclusive: bool = False,
) -> StorageError:
    """Return the storage error for an SDK, HTTP or auth exception (the caller chains it)."""
    context: dict[str, Any] = {"name": name, "operation": operation, "backend": "gcs"}
    if _is_token_error(exc):
        return TransientError(
            f"Could not get an access token for the Google credentials (is the token "
            f"endpoint or the metadata server reachable?): {exc}",
            **context,
        )
    if _is_transport_error(exc):
        return TransientError(f"GCS could not be reached: {exc}", **context)
    if _is_retry_deadline(exc):
        # The SDK's retries ran out of time: say so, and what the last attempt met.
        cause = getattr(exc, "cause", None)
        last = f"{type(cause).__name__}: {cause}" if cause is not None else "no answer"
        return TransientError(
            f"GCS did not answer in time ({getattr(exc, 'message', exc)}); the last attempt "
            f"ended with {last}",
            **context,
        )
    if _is_auth_error(exc):
        return PermissionDeniedError(f"No usable Google credentials: {exc}", **context)
    status, reason = _status_and_reason(exc)
    cls = error_for_status(status, exclusive=exclusive)
    message = str(getattr(exc, "message", "") or exc)
    if cls is AlreadyExistsError:
        return cls("File exists", **context)
    if cls is NotFoundError and "bucket" in message.lower() and "not exist" in message.lower():
        return StorageError(f"The bucket {bucket!r} does not exist", **context)
    if cls is PermissionDeniedError:
        return cls(_denied_message(operation, bucket, message), **context)
    if cls is NotFoundError:
        return cls("No such file", **context)
    if status == 400 and _CHECKSUM_REFUSED.search(message):
        return IntegrityError(f"GCS refused the bytes it received: {message}", **context)
    return cls(f"{status or ''} {reason}: {message}".strip(), **context)


def _denied_message(operation: str, bucket: str | None, message: str) -> str:
    needs = PERMISSIONS.get(operation, ())
    if not needs:
        return f"GCS refused the request: {message}"
    return (
        f"GCS refused the request ({message}): the credentials need "
        f"{' and '.join(needs)} on bucket {bucket!r}."
    )


def _is_token_error(exc: BaseException) -> bool:
    from google.auth.exceptions import TransportError

    return isinstance(exc, TransportError)


def _is_transport_error(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _is_retry_deadline(exc: BaseException) -> bool:
    from google.api_core.exceptions import RetryError

    return isinstance(exc, RetryError)


def _is_auth_error(exc: BaseException) -> bool:
    from google.auth.exceptions import DefaultCredentialsError, RefreshError

    return isinstance(exc, (DefaultCredentialsError, RefreshError))


def gcs_errors(
    operation: str,
    name: str | None,
    bucket: str | None,
    exclusive: bool = False,
) -> AbstractContextManager[None]:
    """Translate the SDK's, HTTP and auth errors raised in the block, chained."""
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError
    from requests import RequestException

    return translating(
        (GoogleAPIError, GoogleAuthError, RequestException, GCSHttpError),
        lambda exc: translate(
            exc, name=name, operation=operation, bucket=bucket, exclusive=exclusive
        ),
    )
