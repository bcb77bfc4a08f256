"""The django-storages GCS docs' examples, written as users write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import models
from django.test import override_settings
from django.utils.functional import empty

from storages_base.testing.django import docs_session
from storages_gcs import GoogleCloudStorage


@pytest.fixture
def gs_settings(bucket: str, sa_info: dict[str, str], tmp_path: Path) -> Any:
    """``GS_CREDENTIALS`` from a key file, as the docs write it, and the default storage."""
    from google.oauth2 import service_account

    key = tmp_path / "credentials.json"
    key.write_text(json.dumps(sa_info))
    credentials = service_account.Credentials.from_service_account_file(str(key))
    with override_settings(
        GS_BUCKET_NAME=bucket,
        GS_CREDENTIALS=credentials,
        STORAGES={
            "default": {"BACKEND": "storages_gcs.GoogleCloudStorage"},
            "staticfiles": {"BACKEND": "storages_gcs.GoogleCloudStorage"},
        },
    ):
        storages._storages = {}  # default_storage is built again from these settings
        default_storage._wrapped = empty
        yield
    storages._storages = {}
    default_storage._wrapped = empty  # type: ignore[attr-defined]


@pytest.mark.usefixtures("gs_settings")
def test_the_default_storage_session_of_the_docs() -> None:
    assert type(storages["default"]) is GoogleCloudStorage
    docs_session(default_storage)


@pytest.mark.usefixtures("gs_settings")
def test_the_resume_model_of_the_docs() -> None:
    class Resume(models.Model):
        pdf = models.FileField(upload_to="pdfs")
        photos = models.ImageField(upload_to="photos")

        class Meta:
            app_label = "storages_testing"

    resume = Resume()
    assert isinstance(resume.pdf.storage, GoogleCloudStorage)
    with pytest.raises(ValueError, match="no file associated"):
        _ = resume.pdf.size
    resume.pdf.save("django_test.txt", ContentFile("content"), save=False)
    assert resume.pdf.name == "pdfs/django_test.txt"
    assert resume.pdf.size == 7
    assert resume.pdf.read() == b"content"


@pytest.mark.usefixtures("gs_settings")
def test_staticfiles_storage_on_gcs_stores_and_serves_public_urls_when_asked() -> None:
    with override_settings(GS_QUERYSTRING_AUTH=False, GS_DEFAULT_ACL="publicRead"):
        storage = GoogleCloudStorage()
    name = storage.save("css/site.css", ContentFile(b"body{}"))
    assert storage.url(name).endswith(f"/{storage.bucket_name}/css/site.css")
