"""Libcloud with the storages_base app: system checks and ``storages_check`` diagnoses."""

from __future__ import annotations

from django.test import override_settings

from storages_base.checks import check_storages
from storages_base.testing.django import run_storages_check as run_check

from .conftest import Driver

BACKEND = "storages_libcloud.LibCloudStorage"


def test_an_unknown_provider_name_is_reported() -> None:
    providers = {"one": {"type": "S3", "user": "u", "key": "k", "bucket": "b"}}
    with override_settings(
        STORAGES={"default": {"BACKEND": BACKEND}}, LIBCLOUD_PROVIDERS=providers
    ):
        messages = check_storages()
    assert [m.id for m in messages] == ["storages_libcloud.E001"]
    assert "No libcloud provider named 'default'" in messages[0].msg


def test_a_good_configuration_has_no_message() -> None:
    providers = {"default": {"type": "S3", "user": "u", "key": "k", "bucket": "b"}}
    with override_settings(
        STORAGES={"default": {"BACKEND": BACKEND}}, LIBCLOUD_PROVIDERS=providers
    ):
        assert check_storages() == []


def test_storages_check_passes_on_a_working_container(local_driver: Driver) -> None:
    bucket = local_driver.new_container()
    providers = {"default": local_driver.entry(bucket)}
    with override_settings(
        STORAGES={"default": {"BACKEND": BACKEND}}, LIBCLOUD_PROVIDERS=providers
    ):
        output, code = run_check()
    assert code == 0, output


def test_storages_check_says_to_create_a_missing_container(s3_driver: Driver) -> None:
    providers = {"default": s3_driver.entry("never-created")}
    with override_settings(
        STORAGES={"default": {"BACKEND": BACKEND}}, LIBCLOUD_PROVIDERS=providers
    ):
        output, code = run_check()
    assert code != 0
    assert "create_container('never-created')" in output
