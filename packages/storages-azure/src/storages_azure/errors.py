"""azure-core errors -> the common error vocabulary, by HTTP status first.

A 403 says what is missing: Azure's ``AuthorizationPermissionMismatch`` means the
identity lacks a data role (Storage Blob Data Reader/Contributor) or the SAS lacks a
permission; ``AuthenticationFailed`` is a wrong key, a tampered or expired SAS, or a
clock too far from Azure's. Messages never hold the key or the SAS.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

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

__all__ = ["ROLES", "azure_errors", "code_of", "status_of", "translate"]

#: The SAS permission (letter) and the data role each storage operation needs.
ROLES: dict[str, tuple[str, str]] = {
    "open": ("r", "Storage Blob Data Reader"),
    "stat": ("r", "Storage Blob Data Reader"),
    "exists": ("r", "Storage Blob Data Reader"),
    "listdir": ("l", "Storage Blob Data Reader"),
    "save": ("cw", "Storage Blob Data Contributor"),
    "delete": ("d", "Storage Blob Data Contributor"),
    "url": ("r", "Storage Blob Delegator"),
}

#: What Azure's error codes say that their HTTP status does not.
_CODES: dict[str, type[StorageError]] = {
    "BlobNotFound": NotFoundError,
    "ContainerNotFound": StorageError,  # a 404 that is a configuration error
    "BlobAlreadyExists": AlreadyExistsError,
    "ConditionNotMet": PreconditionFailedError,
    "Md5Mismatch": IntegrityError,  # an upload's bytes changed on the way
    "ServerBusy": TransientError,
    "OperationTimedOut": TransientError,
}

_CREDENTIAL_CODES = {
    "AuthenticationFailed": "the key or SAS is wrong, the SAS has expired or was altered, "
    "or this machine's clock is far from Azure's",
    "AuthorizationFailure": "the account refuses this request (wrong key, firewall, or a "
    "disabled shared key)",
    "InvalidAuthenticationInfo": "the credential is malformed or has expired",
    "NoAuthenticationInformation": "the request carried no credential: set AZURE_ACCOUNT_KEY, "
    "AZURE_SAS_TOKEN, AZURE_CONNECTION_STRING or AZURE_TOKEN_CREDENTIAL",
}


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return int(status) if isinstance(status, int) else None


def code_of(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))  # a StorageErrorCode enum, or a string
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return str(headers.get("x-ms-error-code", "") or "")


def translate(
    exc: BaseException,
    *,
    name: str | None,
    operation: str,
    container: str | None = None,
    exclusive: bool = False,
) -> StorageError:
    """Return the storage error for an azure-core exception (the caller chains it)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ServiceRequestError,
        ServiceResponseError,
    )

    context: dict[str, Any] = {"name": name, "operation": operation, "backend": "azure"}
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return TransientError(f"Azure could not be reached: {type(exc).__name__}", **context)
    status, code = status_of(exc), code_of(exc)
    cls = error_for_status(status, code=code, codes=_CODES, exclusive=exclusive)
    if isinstance(exc, ClientAuthenticationError) and status is None:
        cls = PermissionDeniedError
    if cls is AlreadyExistsError:
        message = "File exists"
    elif code == "ContainerNotFound":
        message = f"The container {container!r} does not exist (ContainerNotFound)"
    elif cls is NotFoundError:
        message = "No such file"
    elif cls is PermissionDeniedError:
        message = denied_message(code, operation)
    else:
        message = f"{code or status}: {_first_line(exc)}"
    return cls(message, **context)


def denied_message(code: str, operation: str) -> str:
    """What a 401/403 of ``operation`` means, and what to grant."""
    if code in _CREDENTIAL_CODES:
        return f"Azure refused the request ({code}): {_CREDENTIAL_CODES[code]}."
    letter, role = ROLES.get(operation, ("", ""))
    if not role:
        return f"Azure refused the request ({code or 'Forbidden'})."
    return (
        f"Azure refused the request ({code or 'Forbidden'}): the identity needs the "
        f"{role!r} role on the container, or the SAS needs the {letter!r} permission."
    )


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0] if message else type(exc).__name__


def azure_errors(
    operation: str,
    name: str | None,
    container: str | None,
    exclusive: bool = False,
) -> AbstractContextManager[None]:
    """Translate the azure-core errors raised in the block, chained to the original."""
    from azure.core.exceptions import AzureError

    return translating(
        AzureError,
        lambda exc: translate(
            exc, name=name, operation=operation, container=container, exclusive=exclusive
        ),
    )
