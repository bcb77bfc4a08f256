"""Django's ManifestFilesMixin on top of a BaseStorage backend (S3ManifestStaticStorage's shape)."""

from __future__ import annotations

import hashlib

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import ContentFile

from storages_base.memory import MemoryStorage


class ManifestMemoryStorage(ManifestFilesMixin, MemoryStorage):  # type: ignore[misc]
    manifest_strict = False


def test_a_manifest_storage_returns_the_hashed_url_of_a_file() -> None:
    storage = ManifestMemoryStorage()
    storage.save("css/site.css", ContentFile(b"body {}"))

    digest = hashlib.md5(b"body {}").hexdigest()[:12]
    assert storage.url("css/site.css") == f"/media/css/site.{digest}.css"
