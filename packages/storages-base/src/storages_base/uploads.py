"""Direct uploads: what a browser needs to send one file straight to a bucket.

A provider's ``presigned_upload(name, max_size=..., content_type=..., expire=...)``
signs a form POST (S3's presigned POST, GCS's V4 POST policy) whose signed policy fixes
the object's name, the size range and the content type, or a request the file is the
body of (Azure's create-only SAS PUT, Dropbox's one-time link); it returns this
description, the same for every provider, so a page (and the demo's direct-upload
form) works on any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from . import names

if TYPE_CHECKING:
    from .storage import BaseStorage

__all__ = ["DirectUploads", "PresignedUpload", "form_fields", "policy_start", "post_target"]


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how a browser uploads one file: POST ``fields`` + the file to ``url``, or
    (``headers`` given) send the file as the body of ``method url`` with ``headers``."""

    url: str
    fields: dict[str, str]
    name: str  # the storage name (what FileField.name and storage.open() take)
    key: str  # the object key (the name under the storage's location)
    expires: datetime
    max_size: int
    content_type: str | None = None
    conditions: list[Any] = field(default_factory=list)
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def lasting(cls, seconds: float, **parts: Any) -> PresignedUpload:
        """The upload whose signature or link lives ``seconds`` from now."""
        return cls(expires=datetime.now(timezone.utc) + timedelta(seconds=seconds), **parts)

    @classmethod
    def from_post(cls, post: Mapping[str, Any], seconds: float, **parts: Any) -> PresignedUpload:
        """The upload of an SDK's signed POST (``{"url": ..., "fields": {...}}``)."""
        fields = {k: str(v) for k, v in post["fields"].items()}
        return cls.lasting(seconds, url=post["url"], fields=fields, **parts)

    def as_dict(self) -> dict[str, Any]:
        """The parts a page needs, ready for ``JsonResponse``; ``method`` and ``headers``
        only where the file is a request's body (a form POST needs neither)."""
        answer = {
            "url": self.url,
            "fields": dict(self.fields),
            "name": self.name,
            "expires": self.expires.isoformat(),
            "max_size": self.max_size,
        }
        if self.headers or self.method != "POST":
            answer.update(method=self.method, headers=dict(self.headers))
        return answer


def post_target(
    storage: BaseStorage,
    name: str,
    *,
    min_size: int,
    max_size: int,
    seconds: int,
    max_seconds: int,
) -> tuple[str, str]:
    """Check a POST policy's request; return the storage name and the object key.

    What every provider refuses before it signs: a size range that is none, an expiry
    its signatures cannot have, and a name ``save()`` would refuse (one outside the
    storage's location included).
    """
    if not 0 <= min_size <= max_size:
        raise ValueError(f"need 0 <= min_size <= max_size, got {min_size} and {max_size}")
    if not 0 < seconds <= max_seconds:
        raise ValueError(f"expire must be between 1 and {max_seconds} seconds, got {seconds}")
    name = names.clean_name(name)
    names.validate_name(name)
    return name, storage._key(name)  # refuses traversal out of the location


def form_fields(
    parameters: Mapping[str, Any], fields: Mapping[str, str], metadata: str, prefix: str
) -> dict[str, str]:
    """The POST form fields that set a provider's object parameters, so what a browser
    stores looks like what ``save()`` stores: ``fields`` names the field of each
    parameter, and the ``metadata`` parameter's entries become ``<prefix><key>`` fields."""
    form: dict[str, str] = {}
    for parameter, value in parameters.items():
        if parameter in fields:
            form[fields[parameter]] = str(value)
        elif parameter == metadata:
            form.update({f"{prefix}{k}": str(v) for k, v in value.items()})
    return form


def policy_start(
    min_size: int, max_size: int, content_type: str | None
) -> tuple[dict[str, str], list[Any]]:
    """The form fields and conditions every POST policy starts with: the size range, and
    the content type, exact (a form field) or by its start when it ends with "/"."""
    form: dict[str, str] = {}
    conditions: list[Any] = [["content-length-range", min_size, max_size]]
    if content_type and content_type.endswith("/"):
        conditions.append(["starts-with", "$Content-Type", content_type])
    elif content_type:
        form["Content-Type"] = content_type
    return form, conditions


class DirectUploads:
    """``presigned_upload()`` for the storages whose provider lets a browser upload
    straight to it: each names its signing function (``sign_upload``, the provider's
    ``presigned_upload(storage, name, ...)``), and the method has one signature on all."""

    sign_upload: ClassVar[Callable[..., PresignedUpload]]

    def presigned_upload(
        self,
        name: str,
        *,
        max_size: int,
        content_type: str | None = None,
        expire: int | None = None,
        **kwargs: Any,
    ) -> PresignedUpload:
        """Sign what a browser needs to upload ``name`` (at most ``max_size`` bytes)
        straight to the provider; see the provider's ``sign_upload`` and "Direct
        uploads" in its README. ``expire`` is in seconds."""
        return type(self).sign_upload(
            self, name, max_size=max_size, content_type=content_type, expire=expire, **kwargs
        )
