"""The shared conformance suite against gcp-storage-emulator (extended: emulator.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_base.testing.contract import StorageContract
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


class TestGoogleCloudStorage(StorageContract):
    large_file_size = 2 * 1024 * 1024 + 123  # over the 1 MiB chunks set below

    @pytest.fixture
    def storage_factory(
        self, gcs: GCSEmulator, bucket: str, sa_credentials: Any
    ) -> Callable[..., GoogleCloudStorage]:
        def build(**options: Any) -> GoogleCloudStorage:
            options = {
                "bucket_name": bucket,
                "credentials": sa_credentials,
                "blob_chunk_size": 1024 * 1024,
                **options,
            }
            return GoogleCloudStorage(**options)

        return build
