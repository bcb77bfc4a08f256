"""The fixtures and helpers every conformance case uses, and the hooks a backend may override."""

from __future__ import annotations

import random
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import Storage

from ...content import rewindable
from ...files import CHUNK_SIZE, Stat
from ...storage import Capabilities

StorageFactory = Callable[..., Any]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ContractFixtures:
    """Fixtures (``storage_factory``, ``storage``, ``folder``) and overridable hooks."""

    #: Bytes of the "large file" cases: set it above the backend's chunk or part size.
    large_file_size: ClassVar[int] = 2 * CHUNK_SIZE + 123

    @pytest.fixture
    def storage_factory(self) -> StorageFactory:
        pytest.fail(
            f"{type(self).__name__} must define a `storage_factory` fixture returning "
            "callable(**options) -> storage built against a real server."
        )

    @pytest.fixture
    def storage(self, storage_factory: StorageFactory) -> Any:
        """The backend with its test defaults (``file_overwrite`` as the backend has it)."""
        return storage_factory()

    @pytest.fixture
    def folder(self, storage: Any) -> Iterator[str]:
        """A folder no other case uses: every name a case saves lives under it, and what
        is left there is deleted afterwards (the suite may run against a real bucket)."""
        name = f"contract-{uuid.uuid4().hex[:12]}"
        yield name
        self.remove_tree(storage, name)

    @classmethod
    def remove_tree(cls, storage: Storage, folder: str) -> None:
        """Delete everything under ``folder``, best effort: a case may have broken it."""
        try:
            folders, files = storage.listdir(folder)
            for file in files:
                storage.delete(f"{folder}/{file}")
            for sub in folders:
                cls.remove_tree(storage, f"{folder}/{sub}")
            if cls.capabilities(storage).empty_folders:
                storage.delete(folder)
        except Exception:
            pass

    # -- hooks a backend's test class may override -----------------------------------------

    def fetch_url(self, url: str) -> bytes:
        """Return the body of ``url`` fetched over HTTP (loopback only, no proxy)."""
        host = urlsplit(url).hostname or ""
        assert host in _LOOPBACK or host.endswith(".localhost"), (
            f"the suite only fetches loopback URLs, not {url!r}"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=30) as response:
            return bytes(response.read())

    @contextmanager
    def lose_a_write_response(self, storage: Any) -> Iterator[None]:
        """Within the block, the first write is stored and then sent again, as an SDK or
        a connection pool resends a request whose response was lost.

        The default resends the same ``WriteRequest`` to the ``_write`` hook; a backend
        whose test class can lose a response at its transport (S3: a botocore hook)
        overrides this, so that the retry is the SDK's own.
        """
        write = storage._write
        lost: list[bool] = []

        def write_twice(request: Any) -> None:
            write(request)
            if not lost:
                lost.append(True)
                if rewindable(request.content):
                    request.content.seek(0)
                write(request)

        storage._write = write_twice
        try:
            yield
        finally:
            del storage._write

    def stored_stat(self, storage: Any, name: str) -> Stat | None:
        """Return what the backend stored about ``name`` (content type, encoding), or None.

        The default asks :class:`~storages_base.BaseStorage`'s ``_stat`` hook; a backend
        whose metadata lives elsewhere overrides this.
        """
        if not hasattr(storage, "_stat"):
            return None
        stat: Stat = storage._stat(storage._key(name))
        return stat

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def capabilities(storage: Storage) -> Capabilities:
        found = getattr(storage, "capabilities", None)
        return found if isinstance(found, Capabilities) else Capabilities()

    def require(self, storage: Storage, capability: str, reason: str) -> None:
        """Skip the case unless the backend declares ``capability``."""
        if not getattr(self.capabilities(storage), capability):
            pytest.skip(f"{type(storage).__name__} does not declare {capability}: {reason}")

    @staticmethod
    def read(storage: Storage, name: str) -> bytes:
        with storage.open(name, "rb") as file:
            return bytes(file.read())

    @staticmethod
    def payload(size: int) -> bytes:
        """Return ``size`` reproducible pseudo-random bytes (incompressible)."""
        return random.Random(size).randbytes(size)

    def content_stat(self, storage: Any, name: str) -> Stat:
        """Return the stored stat of ``name``; skip when the backend exposes no content type."""
        stat = self.stored_stat(storage, name)
        if stat is None or stat.content_type is None:
            pytest.skip(f"{type(storage).__name__} does not expose stored content types")
        return stat
