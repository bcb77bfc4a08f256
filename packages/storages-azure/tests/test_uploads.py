"""Large uploads: parallel blocks, bounded memory, nothing visible from an interrupted one."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from typing import Any

import pytest
from django.core.files.base import ContentFile, File

from storages_azure import AzureStorage

from .conftest import Azurite

MIB = 1024 * 1024


class Failing(io.RawIOBase):
    """A stream of ``size`` bytes that raises after ``fail_at`` of them (a dropped client)."""

    def __init__(self, size: int, fail_at: int) -> None:
        super().__init__()
        self.size, self.fail_at, self.position = size, fail_at, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.fail_at:
            raise ConnectionResetError("the client went away")
        count = min(len(buffer), self.size - self.position, self.fail_at - self.position)
        buffer[:count] = b"z" * count
        self.position += count
        return count


class Endless(io.RawIOBase):
    """``size`` reproducible bytes, never held whole (no seek, no known length)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self.position = size, 0

    def readable(self) -> bool:
        return True

    PATTERN = bytes(range(251)) * (4 * MIB // 251 + 2)  # byte i of the stream is i % 251

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position, 4 * MIB)
        start = self.position % 251
        buffer[:count] = self.PATTERN[start : start + count]
        self.position += count
        return count


@pytest.mark.slow
def test_an_interrupted_upload_commits_nothing_and_keeps_the_old_blob(
    make_storage: Any,
) -> None:
    storage = make_storage(file_overwrite=True)
    storage.save("big/kept.bin", ContentFile(b"the old content"))
    with pytest.raises(ConnectionResetError):
        storage.save("big/kept.bin", File(Failing(40 * MIB, 20 * MIB), "kept.bin"))
    with pytest.raises(ConnectionResetError):
        storage.save("big/never.bin", File(Failing(40 * MIB, 20 * MIB), "never.bin"))
    assert storage.open("big/kept.bin").read() == b"the old content"
    assert not storage.exists("big/never.bin")
    assert storage.listdir("big") == ([], ["kept.bin"])


def test_an_abandoned_writer_commits_nothing(make_storage: Any) -> None:
    storage = make_storage()

    def fail_half_way() -> None:
        with storage.open("w/abandoned.bin", "wb") as file:
            file.write(b"a" * (9 * MIB))  # one block staged
            raise RuntimeError("the view failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert not storage.exists("w/abandoned.bin")


@pytest.mark.slow
def test_blocks_go_up_upload_max_conn_at_a_time(counted: Azurite) -> None:
    storage = counted.storage(counted.new_container(), upload_max_conn=3)
    assert counted.proxy is not None
    counted.proxy.peak = 0
    data = Endless(48 * MIB)
    name = storage.save("conc/big.bin", File(data, "big.bin"))
    assert counted.proxy.peak == 3
    assert storage.size(name) == 48 * MIB
    counted.proxy.peak = 0
    storage = counted.storage(storage.azure_container, upload_max_conn=1)
    storage.save("conc/one.bin", File(Endless(24 * MIB), "one.bin"))
    assert counted.proxy.peak == 1


@pytest.mark.slow
def test_a_large_stream_is_saved_and_read_with_bounded_memory(make_storage: Any) -> None:
    storage = make_storage()
    size = 96 * MIB
    tracemalloc.start()
    try:
        name = storage.save("mem/large.bin", File(Endless(size), "large.bin"))
        _, saved_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.md5(usedforsecurity=False)
        with storage.open(name) as file:
            while chunk := file.read(MIB):
                digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = hashlib.md5(usedforsecurity=False)
    source = Endless(size)
    while chunk := source.read(MIB):
        expected.update(chunk)
    assert digest.hexdigest() == expected.hexdigest()
    # Saving holds a few 8 MiB blocks (2 in flight, read ahead); reading one 4 MiB chunk,
    # plus a transient buffer of the SDK's transport (~32 MiB, whatever the blob's size).
    assert saved_peak < 48 * MIB, saved_peak
    assert read_peak < 48 * MIB, read_peak


def test_a_file_on_disk_is_sent_in_blocks_read_where_they_lie(
    make_storage: Any, tmp_path: Any
) -> None:
    path = tmp_path / "on-disk.bin"
    data = bytes(range(256)) * (70 * 1024)  # 17.5 MiB: three blocks
    path.write_bytes(data)
    storage: AzureStorage = make_storage()
    with path.open("rb") as handle:
        name = storage.save("disk/on-disk.bin", File(handle))
    blocks = storage.client.get_blob_client(name).get_block_list("committed")[0]
    assert len(blocks) == 3
    assert storage.open(name).read() == data


def test_two_large_saves_of_one_name_keep_both_when_not_overwriting(make_storage: Any) -> None:
    storage = make_storage()
    first = storage.save("two/same.bin", ContentFile(b"1" * (9 * MIB)))
    second = storage.save("two/same.bin", ContentFile(b"2" * (9 * MIB)))
    assert first != second
    assert storage.open(first).read(1) == b"1"
    assert storage.open(second).read(1) == b"2"
