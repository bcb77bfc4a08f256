"""libcloud's exceptions -> the common error vocabulary, by HTTP status first.

libcloud raises by cause for the two cases that matter most (``ObjectDoesNotExistError``,
``ContainerDoesNotExistError``) and carries an HTTP status on its provider and HTTP
errors (``http_code``, ``code``); everything else is a ``LibcloudError`` with a message.
Messages never hold the key: libcloud's own messages do not either.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

from storages_base.errors import (
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    TransientError,
    error_for_status,
    translating,
)

__all__ = ["ContainerMissingError", "libcloud_errors", "status_of", "translate"]

_STATUS_IN_TEXT = re.compile(r"[Ss]tatus code:?\s*(\d{3})")


class ContainerMissingError(StorageError):
    """The provider's bucket does not exist: a configuration error, not a missing file."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception of libcloud carries (or states in its message)."""
    for attr in ("http_code", "code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    found = _STATUS_IN_TEXT.search(str(getattr(exc, "value", "") or exc))
    return int(found.group(1)) if found else None


def translate(
    exc: BaseException, *, name: str | None, operation: str, bucket: str, provider: str
) -> StorageError:
    """Map one libcloud (or transport) exception onto the common vocabulary."""
    from libcloud.storage.types import (
        ContainerDoesNotExistError,
        ObjectDoesNotExistError,
        ObjectHashMismatchError,
    )

    where = {"name": name, "operation": operation, "backend": "libcloud"}
    if isinstance(exc, ObjectDoesNotExistError):
        return NotFoundError("No such file", **where)
    if isinstance(exc, ContainerDoesNotExistError):
        return ContainerMissingError(
            f"The container {bucket!r} of provider {provider!r} does not exist: create it "
            f"(store.driver.create_container({bucket!r})) or fix its 'bucket' in "
            "LIBCLOUD_PROVIDERS",
            **where,
        )
    if isinstance(exc, ObjectHashMismatchError):
        return IntegrityError(str(exc), **where)
    if isinstance(exc, (ConnectionError, TimeoutError)) or _is_transport(exc):
        return TransientError(str(exc), **where)
    if isinstance(exc, FileNotFoundError):  # LOCAL: the file went between two calls
        return NotFoundError("No such file", **where)
    if isinstance(exc, PermissionError):
        return PermissionDeniedError(str(exc), **where)
    status = status_of(exc)
    return error_for_status(status)(_message(exc, status), **where)


def _is_transport(exc: BaseException) -> bool:
    try:
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.exceptions import Timeout
    except ImportError:  # pragma: no cover - libcloud requires requests
        return False
    return isinstance(exc, (RequestsConnectionError, Timeout))


def _message(exc: BaseException, status: int | None) -> str:
    text = str(getattr(exc, "value", "") or exc) or type(exc).__name__
    return f"{text} (HTTP {status})" if status and str(status) not in text else text


def libcloud_errors(
    operation: str, name: str | None, bucket: str, provider: str
) -> AbstractContextManager[None]:
    """Translate what the block raises (libcloud, requests, OS errors of LOCAL)."""
    from libcloud.common.exceptions import BaseHTTPError
    from libcloud.common.types import LibcloudError

    return translating(
        (LibcloudError, BaseHTTPError, OSError, ConnectionError),
        lambda exc: translate(
            exc, name=name, operation=operation, bucket=bucket, provider=provider
        ),
    )
