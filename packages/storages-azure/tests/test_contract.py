"""The shared conformance suite, against Azurite (a private container, SAS URLs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_azure import AzureStorage
from storages_base.testing.contract import StorageContract

from .conftest import Azurite


class TestAzureStorageOnAzurite(StorageContract):
    large_file_size = 17 * 1024 * 1024 + 5  # over two blocks of 8 MiB

    @pytest.fixture
    def storage_factory(self, azurite: Azurite) -> Callable[..., AzureStorage]:
        container = azurite.new_container()

        def build(**options: Any) -> AzureStorage:
            return azurite.storage(container, **{"expiration_secs": 600, **options})

        return build


def account_sas(azurite: Azurite) -> str:
    """An account SAS of the dev account allowing everything the storage does, signed by
    the SDK with the well-known key (the storage itself never sees the key)."""
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    from storages_azure.client import EMULATOR_KEY

    return generate_account_sas(
        "devstoreaccount1",
        EMULATOR_KEY,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(
            read=True, write=True, delete=True, list=True, add=True, create=True, tag=True
        ),
        expiry=datetime.now(timezone.utc) + timedelta(hours=2),
    )


class TestAzureStorageWithSasTokenOnly(StorageContract):
    """The same suite with ``AZURE_SAS_TOKEN`` as the only credential (no account key):
    every request is authorised by the token. A token cannot sign a SAS of its own, so
    URLs are plain (the README's use: a public container) and the signed-URL cases skip
    (``signed_urls`` is not declared)."""

    large_file_size = 17 * 1024 * 1024 + 5

    @pytest.fixture
    def storage_factory(self, azurite: Azurite) -> Callable[..., AzureStorage]:
        container = azurite.new_container(public=True)
        token = account_sas(azurite)

        def build(**options: Any) -> AzureStorage:
            storage = azurite.storage(container, **{"sas_token": token, **options})
            assert storage.service_client.credential.signature == token  # no key in use
            assert not storage.capabilities.signed_urls
            return storage

        return build
