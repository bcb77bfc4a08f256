"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on gcp-storage-emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


class TestConcurrency(ConcurrencyCases):
    """gcp-storage-emulator answers a listing by scanning every object and serves one
    request at a time: 8 x 200 took 46-61 s a run, so the full run is 8 x 80 (~10 s)."""

    provider = "GCS"
    full_ops = 80

    @pytest.fixture
    def storage_factory(
        self, gcs: GCSEmulator, bucket: str, sa_credentials: Any
    ) -> Callable[..., GoogleCloudStorage]:
        def build(**options: Any) -> GoogleCloudStorage:
            return GoogleCloudStorage(
                **{"bucket_name": bucket, "credentials": sa_credentials, **options}
            )

        return build
