"""GCS's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app for every GCS backend in ``STORAGES``. The checks
read settings only (no network): the mistakes the django-storages docs warn about.
The diagnosis turns a GCS failure met by ``storages_check`` into what to change.
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage

from storages_base.checks import (
    STEP_OPERATIONS,
    ConfiguredStorage,
    causes,
    missing_option,
    register_diagnosis,
    register_storage_check,
)

from .errors import PERMISSIONS
from .storage import GoogleCloudStorage

__all__ = ["check_gcs_settings", "explain_gcs_failure"]


@register_storage_check(GoogleCloudStorage)
def check_gcs_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """Bucket named; a custom endpoint with a scheme; IAM signing with something to sign."""
    messages: list[checks.CheckMessage] = []
    messages += missing_option(item, "bucket_name", "bucket name", "storages_gcs.E001")
    endpoint = item.value("custom_endpoint")
    if endpoint and ("://" not in endpoint or endpoint.endswith("/")):
        messages.append(
            checks.Warning(
                f"{item.label}: custom_endpoint {endpoint!r} should be a URL with a scheme "
                "and no trailing slash; without a scheme, signed URLs use http://.",
                hint=f"Set {item.source('custom_endpoint')} = "
                f"{'https://' + endpoint.split('://')[-1].rstrip('/')!r}.",
                id="storages_gcs.W001",
            )
        )
    acl = item.value("default_acl")
    if acl and acl != "publicRead" and not item.value("querystring_auth"):
        messages.append(
            checks.Warning(
                f"{item.label}: querystring_auth is off but default_acl is {acl!r}: the "
                "unsigned URLs work only if the bucket itself is public.",
                hint="Make the bucket publicly readable (uniform access), or set "
                f"{item.source('default_acl')} = 'publicRead', or turn querystring_auth on.",
                id="storages_gcs.W002",
            )
        )
    return messages


@register_diagnosis(GoogleCloudStorage)
def explain_gcs_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change for a GCS failure: credentials, signing, a bucket, a permission."""
    assert isinstance(storage, GoogleCloudStorage)
    bucket = storage.bucket_name
    for seen in causes(error):
        if isinstance(seen, ImproperlyConfigured):
            return str(seen)
        status = getattr(seen, "code", None)
        text = str(getattr(seen, "message", "") or seen)
        if status == 404 and "bucket" in text.lower():
            return f"The bucket {bucket!r} does not exist: create it, or fix GS_BUCKET_NAME."
        if status in (401, 403):
            return _permission_advice(storage, step)
    if "does not exist" in str(error) and "bucket" in str(error):
        return f"The bucket {bucket!r} does not exist: create it, or fix GS_BUCKET_NAME."
    if isinstance(error, PermissionError):
        return _permission_advice(storage, step)
    return None


def _permission_advice(storage: GoogleCloudStorage, step: str) -> str:
    if step == "fetch url":
        return (
            "The URL was refused: the account that signs URLs needs storage.objects.get, "
            "or, with GS_QUERYSTRING_AUTH = False, the bucket must allow public reads "
            "(allUsers: roles/storage.objectViewer)."
        )
    operation = STEP_OPERATIONS.get(step, "")
    if operation == "save" and storage.file_overwrite:
        operation = "overwrite"  # replacing an object needs the delete permission too
    needed = " and ".join(PERMISSIONS.get(operation, ())) or "the permission for this request"
    return (
        f"Grant {needed} to these credentials on bucket {storage.bucket_name!r} (e.g. "
        "roles/storage.objectAdmin)."
    )
