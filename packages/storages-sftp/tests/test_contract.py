"""The shared conformance suite, against the private OpenSSH server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_base.testing.contract import StorageContract
from storages_sftp import SFTPStorage


class TestSFTPStorageContract(StorageContract):
    large_file_size = 9 * 1024 * 1024 + 123  # over two read-ahead windows of 4 MiB

    @pytest.fixture
    def storage_factory(
        self, storage_factory: Callable[..., SFTPStorage]
    ) -> Callable[..., SFTPStorage]:
        """The conftest factory: a fresh root folder on the test server per case."""

        def build(**options: Any) -> SFTPStorage:
            return storage_factory(**options)

        return build
