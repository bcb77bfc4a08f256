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
