"""Direct uploads: a browser PUTs a file straight to the container, Django only signs.

``storage.presigned_upload(name, max_size=..., content_type=..., expire=...)`` returns a
SAS URL with the create permission only (``c``): it stores a new blob and cannot replace
one, whatever ``file_overwrite`` says, nor read anything. The page sends the file as the
body of ``PUT url`` with the ``headers`` given (``x-ms-blob-type: BlockBlob``, the content
type, ``If-None-Match: *``). Azure cannot limit a SAS upload's size: ``max_size`` is
returned for the page to check, and a view should check ``storage.size(name)`` after.
A page on another origin needs the account's CORS rules to allow the PUT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storages_base import names
from storages_base.uploads import PresignedUpload

if TYPE_CHECKING:
    from .storage import AzureStorage

__all__ = ["DEFAULT_EXPIRE", "PresignedUpload", "presigned_upload"]

#: The expiry of an upload SAS when neither ``expire`` nor ``expiration_secs`` is set.
DEFAULT_EXPIRE = 3600


def presigned_upload(
    storage: AzureStorage,
    name: str,
    *,
    max_size: int,
    content_type: str | None = None,
    expire: int | None = None,
) -> PresignedUpload:
    """Sign a create-only PUT of ``name`` (no request: signing is local)."""
    if max_size < 0:
        raise ValueError(f"max_size must not be negative, got {max_size}")
    expire = int(expire or storage.expiration_secs or DEFAULT_EXPIRE)
    name = names.clean_name(name)
    names.validate_name(name)
    name = storage._candidate_name(name, None)  # refuses traversal and Azure's bad names
    key = storage._key(name)
    headers = {"x-ms-blob-type": "BlockBlob", "If-None-Match": "*"}
    if content_type:
        headers["Content-Type"] = content_type
    parameters = storage.get_object_parameters(name)
    for setting, header in (
        ("cache_control", "x-ms-blob-cache-control"),
        ("content_disposition", "x-ms-blob-content-disposition"),
        ("content_language", "x-ms-blob-content-language"),
    ):
        if parameters.get(setting):
            headers[header] = str(parameters[setting])
    url = storage.url_builder.url(key, expire=expire, mode="c")
    return PresignedUpload.lasting(
        expire,
        url=url,
        fields={},  # none: the file is the body
        method="PUT",
        headers=headers,
        name=name,
        key=key,
        max_size=max_size,
        content_type=content_type,
    )
