"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on libcloud's LOCAL driver
and its S3 driver against moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_libcloud import LibCloudStorage

from .conftest import Driver, settings_storages


class LibCloudConcurrency(ConcurrencyCases):
    provider = "Libcloud"
    driver_name = ""

    @pytest.fixture
    def storage_factory(
        self, request: pytest.FixtureRequest
    ) -> Iterator[Callable[..., LibCloudStorage]]:
        yield from settings_storages(request, self.driver_name)


class TestLocalDriver(LibCloudConcurrency):
    driver_name = detail = "local"


class TestS3Driver(LibCloudConcurrency):
    """libcloud's S3 driver opens a connection per request (8 x 200 took 61 s a run), so
    the full run is 8 x 50: the LOCAL driver runs 8 x 200. moto hands a GET of a key being
    replaced a closed buffer (its response ends early): shared names are read once the
    writers are done."""

    driver_name = detail = "s3"
    full_ops = 50
    atomic_overwrites = False


@pytest.mark.parametrize("longer", [True, False], ids=["longer", "shorter"])
def test_local_a_file_replaced_while_it_is_opened_is_read_whole(
    local_driver: Driver, monkeypatch: pytest.MonkeyPatch, longer: bool
) -> None:
    """Another writer renames a new version into place just after a read described the
    file: the read gives one version whole, never the new bytes framed by the old size."""
    bucket = local_driver.new_container()
    with override_settings(LIBCLOUD_PROVIDERS={"default": local_driver.entry(bucket)}):
        storage = LibCloudStorage()
        storage.save("doc.txt", ContentFile(b"old version " * 100))
        new = b"new, longer version " * 200 if longer else b"new"
        get, replaced = storage._get, []

        def get_then_replaced(key: str, operation: str) -> Any:
            found = get(key, operation)
            if not replaced:  # a concurrent save's rename, once
                replaced.append(key)
                fresh = LibCloudStorage(file_overwrite=True)
                fresh.save("doc.txt", ContentFile(new))
            return found

        monkeypatch.setattr(storage, "_get", get_then_replaced)
        with storage.open("doc.txt") as file:
            assert file.read() == new
        assert replaced
