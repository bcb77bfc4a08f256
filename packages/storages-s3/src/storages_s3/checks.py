"""S3's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app for every S3 backend in ``STORAGES``. The checks
read settings only (no network): the mistakes the seed warns about. The diagnosis turns
an S3 error code met by ``storages_check`` into what to change.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core import checks
from django.core.files.storage import Storage

from storages_base.checks import (
    STEP_OPERATIONS,
    ConfiguredStorage,
    causes,
    missing_option,
    register_diagnosis,
    register_storage_check,
)

from .errors import PERMISSIONS, code_of
from .storage import S3Storage

__all__ = ["check_s3_settings", "explain_s3_failure"]

_SIGNATURE_CODES = {
    "SignatureDoesNotMatch",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "InvalidRequest",
    "IllegalLocationConstraintException",
    "PermanentRedirect",
}
_CHECKSUM_CODES = {"XAmzContentSHA256Mismatch", "MissingContentLength", "NotImplemented"}


@register_storage_check(S3Storage)
def check_s3_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """Bucket named; domain and STATIC_URL slashes; region with an endpoint; CloudFront pair."""
    messages: list[checks.CheckMessage] = []
    messages += missing_option(item, "bucket_name", "bucket name", "storages_s3.E001")
    domain = item.value("custom_domain")
    if domain and (domain.endswith("/") or "://" in domain):
        messages.append(
            checks.Error(
                f"{item.label}: custom_domain {domain!r} must be a bare host name, "
                "without a scheme or a trailing slash.",
                hint=f"Set {item.source('custom_domain')} = {_bare(domain)!r}; the scheme "
                "comes from AWS_S3_URL_PROTOCOL and the path from the file name.",
                id="storages_s3.E002",
            )
        )
    static_url = getattr(settings, "STATIC_URL", None) or ""
    if item.alias == "staticfiles" and domain and static_url and not static_url.endswith("/"):
        messages.append(
            checks.Error(
                f"STATIC_URL {static_url!r} must end with a slash (and custom_domain must not).",
                hint=f"Set STATIC_URL = {static_url + '/'!r}, independently of custom_domain.",
                id="storages_s3.E003",
            )
        )
    if (
        item.value("endpoint_url")
        and not item.value("region_name")
        and not os.environ.get("AWS_DEFAULT_REGION")
    ):
        messages.append(
            checks.Warning(
                f"{item.label}: endpoint_url is set but region_name is not; S3-compatible "
                "services then often refuse the signature (SignatureDoesNotMatch).",
                hint=f"Set {item.source('region_name')} to the service's region "
                "(e.g. 'fra1' for DigitalOcean Spaces, 'auto' for Cloudflare R2).",
                id="storages_s3.W001",
            )
        )
    key, key_id = item.value("cloudfront_key"), item.value("cloudfront_key_id")
    if bool(key) != bool(key_id):  # refused at construction too (the options table)
        present, absent = ("cloudfront_key", "cloudfront_key_id") if key else _swap()
        messages.append(
            checks.Error(
                f"{item.label}: {present} is set but {absent} is not; CloudFront URLs "
                "need both to be signed.",
                hint=f"Set {item.source(absent)} (the CloudFront public key id, 'K...' or "
                "'APK...', with the private key in AWS_CLOUDFRONT_KEY).",
                id="storages_s3.E004",
            )
        )
    return messages


def _bare(domain: str) -> str:
    return domain.split("://", 1)[-1].rstrip("/")


def _swap() -> tuple[str, str]:
    return "cloudfront_key_id", "cloudfront_key"


@register_diagnosis(S3Storage)
def explain_s3_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change for an S3 failure: permission, region/signature, checksums, bucket."""
    assert isinstance(storage, S3Storage)
    code, status = _code_and_status(error)
    bucket = storage.bucket_name
    if code == "NoSuchBucket":
        return f"The bucket {bucket!r} does not exist: create it, or fix AWS_STORAGE_BUCKET_NAME."
    if code in _SIGNATURE_CODES or (step == "fetch url" and code == "SignatureDoesNotMatch"):
        return (
            f"S3 rejected the request signature ({code}): set AWS_S3_REGION_NAME to the "
            f"bucket's region (now {storage.region_name!r}), and check "
            "AWS_S3_SIGNATURE_VERSION ('s3v4') and AWS_S3_ADDRESSING_STYLE ('virtual' or "
            "'path', as the service expects); also check the secret key."
        )
    if code in _CHECKSUM_CODES or "checksum" in str(error).lower():
        return (
            "The service rejects boto3's integrity checksums (S3-compatible services do): "
            "set AWS_S3_CLIENT_CONFIG = Config(request_checksum_calculation='when_required', "
            "response_checksum_validation='when_required')."
        )
    if status in (401, 403) or code in {"AccessDenied", "InvalidAccessKeyId", "Forbidden"}:
        return _permission_advice(storage, step, code)
    return None


def _permission_advice(storage: S3Storage, step: str, code: str) -> str:
    if code == "InvalidAccessKeyId":
        return "S3 does not know this access key id: check AWS_S3_ACCESS_KEY_ID."
    actions = PERMISSIONS.get(STEP_OPERATIONS.get(step, ""), ())
    if step == "fetch url":
        return (
            "The URL was refused: the credentials that sign URLs need s3:GetObject, or, with "
            "AWS_QUERYSTRING_AUTH = False, the bucket or CloudFront must allow public reads."
        )
    if step == "save" and (storage.default_acl or "ACL" in storage.object_parameters):
        actions = (*actions, "s3:PutObjectAcl")  # a canned ACL is set with the upload
    needed = " and ".join(actions) or "the permission for this request"
    bucket = storage.bucket_name
    return (
        f"Grant {needed} to these credentials on arn:aws:s3:::{bucket} and "
        f"arn:aws:s3:::{bucket}/* (the IAM policy in the storages-s3 README)."
    )


def _code_and_status(error: BaseException) -> tuple[str, int | None]:
    """The S3 error code and HTTP status behind a storage error (or an HTTP fetch)."""
    from botocore.exceptions import ClientError

    for seen in causes(error):
        if isinstance(seen, ClientError):
            status = seen.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return code_of(seen), int(status) if status else None
        code = getattr(seen, "code", None)  # urllib's HTTPError of a URL fetch
        if isinstance(code, int):
            return _xml_code(seen), code
    return "", None


def _xml_code(error: BaseException) -> str:
    read = getattr(error, "read", None)
    try:
        body = read() if callable(read) else b""
    except Exception:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
    start = text.find("<Code>")
    return text[start + 6 : text.find("</Code>")] if start >= 0 else ""
