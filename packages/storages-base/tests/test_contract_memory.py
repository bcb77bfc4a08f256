"""The conformance suite on MemoryStorage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_base.memory import MemoryStorage
from storages_base.testing import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def storage_factory(self) -> Callable[..., MemoryStorage]:
        def build(**options: Any) -> MemoryStorage:
            return MemoryStorage(**{"bucket": "contract", **options})

        return build
