"""System checks of the Azure settings and ``storages_check``'s diagnoses, on Azurite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from azure.storage.blob import generate_container_sas
from django.test import override_settings

from storages_base.checks import check_storages
from storages_base.testing.django import run_storages_check

from .conftest import ACCOUNT, Azurite

AZ = "storages_azure.AzureStorage"
GOOD = {"azure_container": "media", "account_name": "acct", "account_key": "a2V5"}


def ids(**options: Any) -> list[str]:
    with override_settings(STORAGES={"default": {"BACKEND": AZ, "OPTIONS": options}}):
        return [message.id for message in check_storages()]  # type: ignore[misc]


def test_a_sound_configuration_passes() -> None:
    assert ids(**GOOD) == []
    assert ids(azure_container="media", emulated_mode=True, expiration_secs=60) == []


def test_a_missing_container_or_account_is_reported() -> None:
    assert ids(account_name="acct") == ["storages.E003"]
    assert ids(azure_container="media") == ["storages_azure.E001"]


def test_a_custom_domain_written_as_a_url_is_reported() -> None:
    assert ids(**GOOD, custom_domain="https://cdn.example.com/") == ["storages_azure.E002"]
    assert ids(**GOOD, custom_domain="cdn.example.com") == []


def test_sas_urls_nothing_can_sign_are_reported() -> None:
    options = {"azure_container": "m", "account_name": "a", "sas_token": "sv=1&sig=2"}
    assert ids(**options, expiration_secs=60) == ["storages_azure.E003"]
    assert ids(**options) == []


def check(options: dict[str, Any]) -> tuple[str, int]:
    with override_settings(STORAGES={"default": {"BACKEND": AZ, "OPTIONS": options}}):
        return run_storages_check("default")


def test_storages_check_passes_a_private_container_with_sas_urls(
    azurite: Azurite, container: str
) -> None:
    output, status = check(azurite.options(container, expiration_secs=300))
    assert status == 0, output
    assert "fetch url" in output


def test_storages_check_says_to_create_a_missing_container(azurite: Azurite) -> None:
    output, status = check(azurite.options("missing-container", client_options={"retry_total": 0}))
    assert status != 0
    assert "does not exist: create it" in output


def test_storages_check_names_the_sas_permission_that_is_missing(
    azurite: Azurite, container: str
) -> None:
    from storages_azure.client import EMULATOR_KEY

    sas = generate_container_sas(
        ACCOUNT,
        container,
        account_key=EMULATOR_KEY,
        permission="rl",
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    output, status = check(azurite.options(container, sas_token=sas))
    assert status != 0
    assert "AuthorizationPermissionMismatch" in output
    assert "'cw' permission" in output
    assert sas.split("sig=")[1] not in output


def test_storages_check_explains_a_refused_plain_url(azurite: Azurite, container: str) -> None:
    output, status = check(azurite.options(container))  # private, no expiration_secs
    assert status != 0
    assert "AZURE_URL_EXPIRATION_SECS" in output
