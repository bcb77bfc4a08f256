"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on the local Dropbox server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_dropbox import DropboxStorage


class TestConcurrency(ConcurrencyCases):
    provider = "Dropbox"
    opaque_urls = True  # temporary links name no path, as Dropbox's own do

    @pytest.fixture
    def storage_factory(
        self, make_storage: Callable[..., DropboxStorage]
    ) -> Callable[..., DropboxStorage]:
        return make_storage
