"""Direct uploads: a browser sends a file straight to the bucket, Django only signs.

``storage.presigned_upload(name, max_size=..., content_type=..., expire=...)`` returns
the URL and form fields of a V4 signed POST policy whose conditions fix the object's
name, the size range (``content-length-range``) and the content type, and repeat the
storage's ACL and blob properties, so what the browser stores looks like what ``save()``
would store. The page posts the fields and the file (last) as ``multipart/form-data``;
a page on another origin needs the bucket's CORS configuration to read the answer.
Signing is local (the service account's key), or one IAM signBlob call.

A POST replaces an object of the same name whatever ``file_overwrite`` says: pass a
name nobody else uses (a random folder, say).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from storages_base.uploads import PresignedUpload, form_fields, policy_start, post_target

from .urls import MAX_EXPIRATION, expiration_seconds

if TYPE_CHECKING:
    from .storage import GoogleCloudStorage

__all__ = ["PresignedUpload", "presigned_upload"]

# Blob properties (GS_OBJECT_PARAMETERS) and the POST form fields that set them.
_FORM_FIELDS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "storage_class": "x-goog-storage-class",
}


def presigned_upload(
    storage: GoogleCloudStorage,
    name: str,
    *,
    max_size: int,
    content_type: str | None = None,
    expire: int | None = None,
    min_size: int = 0,
    fields: dict[str, str] | None = None,
) -> PresignedUpload:
    """Sign a POST that lets its holder store one file of at most ``max_size`` bytes at ``name``.

    ``content_type`` fixes the type exactly (``"image/png"``), or only its start when it
    ends with a slash (``"image/"``). ``expire`` (seconds) defaults to ``expiration``.
    ``fields`` adds form fields the policy fixes as given (``{"x-goog-meta-owner": "42"}``).
    """
    seconds = int(expire) if expire is not None else expiration_seconds(storage.expiration)
    name, key = post_target(
        storage,
        name,
        min_size=min_size,
        max_size=max_size,
        seconds=seconds,
        max_seconds=MAX_EXPIRATION,
    )
    form, conditions = _policy(storage, name, min_size, max_size, content_type, fields or {})
    options: dict[str, Any] = {}
    if storage.custom_endpoint:
        endpoint = storage.custom_endpoint
        options["bucket_bound_hostname"] = endpoint
        options["scheme"] = endpoint.split("://")[0] if "://" in endpoint else "http"
    from .signing import SignerCredentials

    post = storage.client.generate_signed_post_policy_v4(
        storage.bucket_name,
        key,
        expiration=timedelta(seconds=seconds),
        conditions=list(conditions),
        fields=form,
        credentials=SignerCredentials(storage.url_builder.signer()),
        **options,
    )
    return PresignedUpload.from_post(
        post,
        seconds,
        name=name,
        key=key,
        max_size=max_size,
        content_type=content_type,
        conditions=conditions,
    )


def _policy(
    storage: GoogleCloudStorage,
    name: str,
    min_size: int,
    max_size: int,
    content_type: str | None,
    extra: dict[str, str],
) -> tuple[dict[str, str], list[Any]]:
    """The form fields and the conditions (the SDK adds the bucket, key and signature's)."""
    form, conditions = policy_start(min_size, max_size, content_type)
    parameters = storage.get_write_parameters(name, None)
    acl = parameters.pop("acl", None) or storage.default_acl
    if acl:
        form["acl"] = _XML_ACLS.get(acl, acl)
    form.update(form_fields(parameters, _FORM_FIELDS, "metadata", "x-goog-meta-"))
    form.update(extra)
    return form, conditions


# A POST takes the XML API's canned ACL names; GS_DEFAULT_ACL uses the JSON API's.
_XML_ACLS = {
    "publicRead": "public-read",
    "private": "private",
    "projectPrivate": "project-private",
    "authenticatedRead": "authenticated-read",
    "bucketOwnerRead": "bucket-owner-read",
    "bucketOwnerFullControl": "bucket-owner-full-control",
}
