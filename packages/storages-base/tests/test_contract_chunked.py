"""The conformance suite on a storage whose uploads go through the chunked engine.

``PartedMemoryStorage`` is MemoryStorage with ``_write`` and ``_open_writer`` from
:class:`~storages_base.chunked.ChunkedUploads` and 1 KiB parts, so every save and every
``open(name, "wb")`` of the suite larger than a part goes in parts, and the engine is
held to the whole Django Storage contract (overwrite, exclusive creates, gzip, sizes).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from storages_base.chunked import ChunkedUploads, Part, PartRules, PartTarget
from storages_base.memory import MemoryStorage
from storages_base.storage import WriteRequest
from storages_base.testing import StorageContract


class MemoryParts(PartTarget):
    """Parts staged in a dict; the commit is MemoryStorage's own (exclusive) write."""

    rules = PartRules(min_size=1024, max_parts=10_000)

    def __init__(self, storage: PartedMemoryStorage, request: WriteRequest) -> None:
        self.storage, self.request = storage, request
        self.staged: dict[int, bytes] = {}
        self.lock = threading.Lock()

    def put_single(self, data: bytes | bytearray) -> None:
        self._store(bytes(data))

    def begin(self) -> None:
        self.storage.uploads_begun += 1

    def send_part(self, number: int, data: Part) -> int:
        body = data.read() if isinstance(data, io.RawIOBase) else bytes(data)
        with self.lock:
            self.staged[number] = body
        return number

    def commit(self, tokens: list[Any]) -> None:
        self._store(b"".join(self.staged[number] for number in tokens))

    def abort(self) -> None:
        self.staged.clear()

    def _store(self, data: bytes) -> None:
        request = replace(self.request, content=io.BytesIO(data), size=len(data), source=None)
        MemoryStorage._write(self.storage, request)


class PartedMemoryStorage(ChunkedUploads, MemoryStorage):
    stream_part_size = file_part_size = 1024
    stream_concurrency = 3

    def configure(self) -> None:
        super().configure()
        self.uploads_begun = 0

    def _part_target(self, request: WriteRequest) -> MemoryParts:
        return MemoryParts(self, request)


class TestChunkedMemoryStorage(StorageContract):
    @pytest.fixture
    def storage_factory(self) -> Callable[..., PartedMemoryStorage]:
        def build(**options: Any) -> PartedMemoryStorage:
            return PartedMemoryStorage(**{"bucket": "contract-chunked", **options})

        return build


def test_the_suites_large_files_really_went_in_parts() -> None:
    storage = PartedMemoryStorage(bucket="chunked-parts")
    storage.save("big.bin", io.BytesIO(b"b" * 5000))
    with storage.open("written.bin", "wb") as f:
        f.write(b"w" * 5000)
    assert storage.uploads_begun == 2
    assert storage.open("big.bin").read() == b"b" * 5000
    assert storage.size("written.bin") == 5000
