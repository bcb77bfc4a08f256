"""GCS with the storages_base app: system checks and ``storages_check`` diagnoses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from storages_base.checks import check_storages
from storages_base.testing.django import run_storages_check as check
from storages_gcs.testing import GCSEmulator

GCS = "storages_gcs.GoogleCloudStorage"


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_a_missing_bucket_name_is_reported_with_the_setting_to_set() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": GCS}}):
        messages = check_storages()
    assert ids(messages) == ["storages_gcs.E001"]
    assert "GS_BUCKET_NAME" in messages[0].hint


def test_a_custom_endpoint_without_a_scheme_is_reported() -> None:
    options = {"bucket_name": "b", "custom_endpoint": "cdn.example.com/"}
    with override_settings(STORAGES={"default": {"BACKEND": GCS, "OPTIONS": options}}):
        messages = check_storages()
    assert ids(messages) == ["storages_gcs.W001"]
    assert "https://cdn.example.com" in messages[0].hint


def test_a_good_configuration_has_no_message() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": GCS}}, GS_BUCKET_NAME="b"):
        assert check_storages() == []


@pytest.fixture
def configured(bucket: str, sa_credentials: Any) -> Any:
    options = {"bucket_name": bucket, "credentials": sa_credentials}
    with override_settings(STORAGES={"default": {"BACKEND": GCS, "OPTIONS": options}}):
        yield bucket


def test_storages_check_passes_on_a_working_bucket(configured: str) -> None:
    output, status = check("default")
    assert status == 0, output


def test_a_missing_bucket_is_named(sa_credentials: Any, gcs: GCSEmulator) -> None:
    options = {"bucket_name": "no-such-bucket-xyz", "credentials": sa_credentials}
    with override_settings(STORAGES={"default": {"BACKEND": GCS, "OPTIONS": options}}):
        output, status = check("default")
    assert status == 1
    assert "'no-such-bucket-xyz' does not exist" in output


def test_a_missing_permission_is_named(configured: str, gcs: GCSEmulator) -> None:
    gcs.denied[("DELETE", configured)] = "storage.objects.delete"
    try:
        output, status = check("default")
    finally:
        gcs.denied.clear()
    assert status == 1
    assert "Grant storage.objects.delete" in output


def test_credentials_that_cannot_sign_are_explained(bucket: str) -> None:
    from google.auth.credentials import AnonymousCredentials

    options = {"bucket_name": bucket, "credentials": AnonymousCredentials()}
    with override_settings(STORAGES={"default": {"BACKEND": GCS, "OPTIONS": options}}):
        output, status = check("default")
    assert status == 1
    assert "GS_IAM_SIGN_BLOB" in output  # what to set, not a google-auth traceback
    assert "Traceback" not in output
