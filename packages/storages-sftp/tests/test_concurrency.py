"""Check 2 of RELIABILITY.md: one storage (one SSH connection pool) shared by 8 threads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_sftp import SFTPStorage


class TestConcurrency(ConcurrencyCases):
    provider = "SFTP"

    @pytest.fixture
    def storage_factory(
        self, storage_factory: Callable[..., SFTPStorage], root: Path
    ) -> Callable[..., SFTPStorage]:
        self.root = root
        return storage_factory

    def server_listing(self, storage_factory: Any, folder: str) -> list[str]:
        """The files in ``folder`` on the server's disk (sshd runs on this machine)."""
        return sorted(path.name for path in (self.root / folder).iterdir() if path.is_file())
