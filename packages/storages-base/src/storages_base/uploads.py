"""Direct uploads: what a browser needs to send one file straight to a bucket.

A provider's ``presigned_upload(name, max_size=..., content_type=..., expire=...)``
signs a form POST (S3's presigned POST, GCS's V4 POST policy) whose signed policy fixes
the object's name, the size range and the content type; it returns this description,
the same for every provider, so a page (and the demo's direct-upload form) works on any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["PresignedUpload", "policy_start"]


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how a browser uploads one file: POST ``fields`` + the file to ``url``."""

    url: str
    fields: dict[str, str]
    name: str  # the storage name (what FileField.name and storage.open() take)
    key: str  # the object key (the name under the storage's location)
    expires: datetime
    max_size: int
    content_type: str | None = None
    conditions: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The parts a page needs, ready for ``JsonResponse``."""
        return {
            "url": self.url,
            "fields": dict(self.fields),
            "name": self.name,
            "expires": self.expires.isoformat(),
            "max_size": self.max_size,
        }


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
