"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on Azurite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storages_azure import AzureStorage
from storages_base.testing.cases.concurrency import ConcurrencyCases

from .conftest import Azurite


class TestConcurrency(ConcurrencyCases):
    provider = "Azure"

    @pytest.fixture
    def storage_factory(self, azurite: Azurite) -> Callable[..., AzureStorage]:
        container = azurite.new_container()
        return lambda **options: azurite.storage(container, **options)
