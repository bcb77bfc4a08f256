"""Direct uploads: a browser sends a file straight to the bucket, Django only signs.

``storage.presigned_upload(name, max_size=..., content_type=..., expire=...)`` returns
the URL and form fields of an S3 presigned POST whose signed policy fixes the object's
key, the size range and the content type, and repeats the storage's ACL and object
parameters, so what the browser stores looks like what ``save()`` would have stored.
Large files then never pass through the Django process. The page posts the fields
and the file (last) as ``multipart/form-data`` to ``url``; a page on another origin
needs the bucket's CORS rules to allow it to read the answer.

A POST cannot be made conditional: it replaces an object of the same name, so pass
a name nobody else uses (a random folder, say), whatever ``file_overwrite`` says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storages_base.uploads import PresignedUpload, form_fields, policy_start, post_target

from .errors import s3_errors

if TYPE_CHECKING:
    from .storage import S3Storage

__all__ = ["MAX_EXPIRE", "PresignedUpload", "presigned_upload"]

#: SigV4 signatures live at most seven days.
MAX_EXPIRE = 7 * 24 * 3600

# PutObject parameters (AWS_S3_OBJECT_PARAMETERS) and the POST form fields that set them.
_FORM_FIELDS = {
    "ACL": "acl",
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
    "Expires": "Expires",
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "Tagging": "tagging",
}


def presigned_upload(
    storage: S3Storage,
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
    ends with a slash (``"image/"``). ``expire`` (seconds) defaults to
    ``querystring_expire``. ``fields`` adds form fields that the policy fixes as given
    (``{"x-amz-meta-owner": "42"}``). No request is made: signing is local.
    """
    expire = int(expire if expire is not None else storage.querystring_expire)
    name, key = post_target(
        storage, name, min_size=min_size, max_size=max_size, seconds=expire, max_seconds=MAX_EXPIRE
    )
    form, conditions = _policy(storage, name, min_size, max_size, content_type, fields or {})
    with s3_errors("presign", name, storage.bucket_name):
        post = storage.client.generate_presigned_post(
            Bucket=storage.bucket_name,
            Key=key,
            Fields=form,
            Conditions=conditions,
            ExpiresIn=expire,
        )
    return PresignedUpload.from_post(
        post,
        expire,
        name=name,
        key=key,
        max_size=max_size,
        content_type=content_type,
        conditions=conditions,
    )


def _policy(
    storage: S3Storage,
    name: str,
    min_size: int,
    max_size: int,
    content_type: str | None,
    extra: dict[str, str],
) -> tuple[dict[str, str], list[Any]]:
    """Return the form fields and the policy conditions (the key and bucket are added by boto3)."""
    form, conditions = policy_start(min_size, max_size, content_type)
    parameters = storage.get_object_parameters(name)
    if storage.default_acl and "ACL" not in parameters:
        parameters["ACL"] = storage.default_acl
    form.update(form_fields(parameters, _FORM_FIELDS, "Metadata", "x-amz-meta-"))
    form.update(extra)
    conditions.extend({field_name: value} for field_name, value in form.items())
    return form, conditions
