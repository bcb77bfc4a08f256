"""The shared conformance suite on libcloud's LOCAL, S3 (moto) and AZURE_BLOBS (Azurite)
drivers: libcloud's own protocol code runs end to end against each server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from storages_base.testing.contract import StorageContract
from storages_libcloud import LibCloudStorage

from .conftest import settings_storages


class LibCloudContract(StorageContract):
    driver_name: str = ""

    @pytest.fixture
    def storage_factory(
        self, request: pytest.FixtureRequest
    ) -> Iterator[Callable[..., LibCloudStorage]]:
        yield from settings_storages(request, self.driver_name)


class TestLocalDriver(LibCloudContract):
    driver_name = "local"


class TestS3Driver(LibCloudContract):
    driver_name = "s3"
    large_file_size = 5 * 1024 * 1024 + 123  # over one of libcloud's 5 MiB parts


class TestAzureBlobsDriver(LibCloudContract):
    driver_name = "azure"
    large_file_size = 4 * 1024 * 1024 + 123  # over one of libcloud's 4 MiB blocks
