"""botocore errors -> the common error vocabulary, by HTTP status first.

A 403 names the IAM permission the operation needs: S3 answers HeadObject of a
missing key with 403 instead of 404 when the caller lacks ``s3:ListBucket``, which
is the usual reason ``exists()`` fails with "Forbidden" (django-storages #1104).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    FlexibleChecksumError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

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

__all__ = [
    "PERMISSIONS",
    "code_of",
    "is_missing",
    "refuses_condition",
    "require",
    "s3_errors",
    "status_of",
    "translate",
]

#: The IAM actions each storage operation needs (the seed's IAM policy).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "open": ("s3:GetObject",),
    "stat": ("s3:GetObject", "s3:ListBucket"),
    "exists": ("s3:GetObject", "s3:ListBucket"),
    "save": ("s3:PutObject",),
    "delete": ("s3:DeleteObject",),
    "listdir": ("s3:ListBucket",),
    "abort": ("s3:AbortMultipartUpload",),
}

#: What S3's error codes say that their HTTP status does not (the rest goes by status).
_CODES: dict[str, type[StorageError]] = {
    "NoSuchKey": NotFoundError,
    "NotFound": NotFoundError,
    "404": NotFoundError,
    "NoSuchBucket": StorageError,  # a 404 that is a configuration error, not a missing file
    "PreconditionFailed": PreconditionFailedError,
    "412": PreconditionFailedError,
    "ConditionalRequestConflict": PreconditionFailedError,
    "BadDigest": IntegrityError,  # the body does not match its Content-MD5 or checksum
    "XAmzContentSHA256Mismatch": IntegrityError,
}


def status_of(exc: ClientError) -> int | None:
    """Return the HTTP status of a botocore ``ClientError``."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status else None


def code_of(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_missing(exc: ClientError) -> bool:
    """Whether ``exc`` says the object does not exist (what ``translate`` makes a
    ``NotFoundError``; a missing bucket stays an error where S3 names it)."""
    return error_for_status(status_of(exc), code=code_of(exc), codes=_CODES) is NotFoundError


def refuses_condition(exc: BaseException | None) -> bool:
    """Whether the server refused a conditional header it does not implement (501)."""
    return isinstance(exc, ClientError) and (
        status_of(exc) == 501 or code_of(exc) == "NotImplemented"
    )


def translate(
    exc: BaseException,
    *,
    name: str | None,
    operation: str,
    bucket: str | None = None,
    exclusive: bool = False,
) -> StorageError:
    """Return the storage error for a botocore exception (the caller chains it)."""
    context: dict[str, Any] = {"name": name, "operation": operation, "backend": "s3"}
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return PermissionDeniedError(f"No usable AWS credentials: {exc}", **context)
    if isinstance(exc, (BotoConnectionError, ReadTimeoutError, ResponseStreamingError)):
        return TransientError(str(exc), **context)
    if isinstance(exc, IncompleteReadError):  # the body ended before its Content-Length
        return TransientError(str(exc), **context)
    if isinstance(exc, FlexibleChecksumError):  # botocore's check of S3's checksum
        return IntegrityError(str(exc), **context)
    if isinstance(exc, BotoCoreError):
        return StorageError(str(exc), **context)
    if not isinstance(exc, ClientError):
        return StorageError(str(exc), **context)
    status, code = status_of(exc), code_of(exc)
    cls = error_for_status(status, code=code, codes=_CODES, exclusive=exclusive)
    if cls is AlreadyExistsError:
        message = "File exists"
    elif code == "NoSuchBucket":
        message = f"The bucket {bucket!r} does not exist (NoSuchBucket)"
    elif cls is PermissionDeniedError:
        message = _denied_message(code, operation, bucket, name)
    elif _CODES.get(code) is NotFoundError:
        message = "No such file"
    else:
        message = f"{code or status}: {_message(exc)}"
    return cls(message, **context)


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message") or exc)


#: 403 codes that are about the request's signature or keys, not about IAM permissions.
_CREDENTIAL_CODES = {
    "SignatureDoesNotMatch": "the signature does not match: check the secret key, "
    "region_name, signature_version and addressing_style (and the endpoint_url)",
    "InvalidAccessKeyId": "the access key id is unknown to this endpoint",
    "ExpiredToken": "the session token has expired",
    "InvalidToken": "the session token is invalid",
    "RequestTimeTooSkewed": "this machine's clock is too far from the server's",
}


def _denied_message(code: str, operation: str, bucket: str | None, name: str | None) -> str:
    if code in _CREDENTIAL_CODES:
        return f"S3 refused the request ({code}): {_CREDENTIAL_CODES[code]}."
    needs = PERMISSIONS.get(operation, ())
    if not needs:
        return f"S3 refused the request ({code or 'AccessDenied'})."
    needed = " and ".join(needs)
    text = (
        f"S3 refused the request ({code or 'AccessDenied'}): the credentials need "
        f"{needed} on bucket {bucket!r}"
    )
    if "s3:ListBucket" in needs:
        text += (
            "; without s3:ListBucket S3 answers 403 instead of 404 for a file that does not exist"
        )
    return text + "."


def s3_errors(
    operation: str,
    name: str | None,
    bucket: str | None,
    exclusive: bool = False,
) -> AbstractContextManager[None]:
    """Translate the botocore errors raised in the block, chained to the original."""
    return translating(
        (BotoCoreError, ClientError),
        lambda exc: translate(
            exc, name=name, operation=operation, bucket=bucket, exclusive=exclusive
        ),
    )


def require(response: Any, field: str, operation: str, name: str | None) -> None:
    """Raise :class:`TransientError` if a successful response lacks what S3 always sends
    (its head was cut off: ``client.REQUIRED_FIELDS``, retried before it gets here)."""
    if field not in response:
        raise TransientError(
            f"S3's response came without {field}: the connection dropped mid-response",
            name=name,
            operation=operation,
            backend="s3",
        )
