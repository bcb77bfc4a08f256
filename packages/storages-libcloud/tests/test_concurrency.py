"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on libcloud's LOCAL driver
and its S3 driver against moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import override_settings

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_libcloud import LibCloudStorage

from .conftest import Driver


class LibCloudConcurrency(ConcurrencyCases):
    provider = "Libcloud"
    driver_name = ""

    @pytest.fixture
    def storage_factory(
        self, request: pytest.FixtureRequest
    ) -> Iterator[Callable[..., LibCloudStorage]]:
        driver: Driver = request.getfixturevalue(f"{self.driver_name}_driver")
        bucket = driver.new_container()
        with override_settings(LIBCLOUD_PROVIDERS={"default": driver.entry(bucket)}):
            yield lambda **options: LibCloudStorage(**options)


class TestLocalDriver(LibCloudConcurrency):
    driver_name = detail = "local"


class TestS3Driver(LibCloudConcurrency):
    """libcloud's S3 driver opens a connection per request: 100 ops a thread keep the full
    run near 20 s. moto hands a GET of a key being replaced a closed buffer (its response
    ends early): shared names are read once the writers are done."""

    driver_name = detail = "s3"
    full_ops = 100
    atomic_overwrites = False
