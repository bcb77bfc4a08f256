"""What the conformance suite does not state: listing cost, threads, bounded memory, URLs
without requests. Each runs on every driver (LOCAL, S3 on moto, Azure Blobs on Azurite)."""

from __future__ import annotations

import io
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.files.base import ContentFile, File

from storages_libcloud import LibCloudStorage

Make = Callable[..., LibCloudStorage]


class Pattern(io.RawIOBase):
    """``size`` bytes made on the fly: a large upload with nothing large in memory."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"\x5a" * count
        self.left -= count
        return count


@contextmanager
def no_network() -> Iterator[None]:
    """Within the block, opening any connection fails the test."""
    original = socket.socket.connect

    def refuse(*args: Any) -> None:
        raise AssertionError(f"url() opened a connection: {args[1:]}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


def test_listdir_lists_the_folder_not_the_container(make_storage: Make) -> None:
    storage = make_storage()
    for index in range(60):
        storage.save(f"other/{index:03}.txt", ContentFile(b"x"))
    for name in ("wanted/a.txt", "wanted/b.txt", "wanted/sub/c.txt"):
        storage.save(name, ContentFile(b"x"))
    before = storage.objects_listed
    assert storage.listdir("wanted") == (["sub"], ["a.txt", "b.txt"])
    assert storage.objects_listed - before == 3  # not the 63 objects of the container


def test_listdir_shows_a_folder_that_holds_only_folders(make_storage: Make) -> None:
    storage = make_storage()
    storage.save("top/middle/deep/file.txt", ContentFile(b"x"))
    assert storage.listdir("top") == (["middle"], [])
    assert storage.listdir("") == (["top"], [])


def test_eight_threads_share_one_storage(make_storage: Make) -> None:
    storage = make_storage(file_overwrite=True)
    barrier = threading.Barrier(8)

    def work(number: int) -> bytes:
        barrier.wait()
        data = f"thread {number} ".encode() * 5000
        for round_ in range(3):
            storage.save(f"threads/{number}/{round_}.txt", ContentFile(data))
            with storage.open(f"threads/{number}/{round_}.txt") as file:
                assert file.read() == data
        assert storage.listdir(f"threads/{number}") == ([], ["0.txt", "1.txt", "2.txt"])
        return data

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert len(set(results)) == 8
    assert storage.listdir("threads")[0] == [str(n) for n in range(8)]
    assert storage.drivers.created >= 8  # one driver per thread (and the constructor's)


def test_a_large_save_and_read_hold_a_chunk_not_the_file(make_storage: Make) -> None:
    storage = make_storage()
    size = 40 * 1024 * 1024
    tracemalloc.start()
    try:
        name = storage.save("large.bin", File(Pattern(size), "large.bin"))
        _, saving_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read = 0
        with storage.open(name) as file:
            while chunk := file.read(1024 * 1024):
                read += len(chunk)
        _, reading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == size == storage.size(name)
    # libcloud cuts uploads into 5 MiB parts (S3; Azure 4 MiB) by concatenating what it
    # reads, so a few parts are alive at once: bounded by the part, not by the file.
    assert saving_peak < 24 * 1024 * 1024, saving_peak
    # libcloud's S3 download reads the response 5 MiB at a time (its CHUNK_SIZE), and
    # urllib3 joins what it read into each piece: a few pieces, never the 40 MiB file.
    assert reading_peak < 20 * 1024 * 1024, reading_peak


def test_a_read_after_a_seek_gets_the_right_bytes(make_storage: Make) -> None:
    storage = make_storage()
    data = bytes(range(256)) * 4096
    name = storage.save("seek.bin", ContentFile(data))
    with storage.open(name) as file:
        file.seek(700_001)
        assert file.read(10) == data[700_001:700_011]
        file.seek(5)
        assert file.read(3) == data[5:8]


def test_url_makes_no_request(make_storage: Make) -> None:
    storage = make_storage()
    storage.url("warm up.txt")  # the first call may import the driver's modules
    with no_network():
        url = storage.url("a folder/ü.txt")
    assert "a%20folder/%C3%BC.txt" in url


def test_modified_time_is_recent(make_storage: Make) -> None:
    from django.utils import timezone

    storage = make_storage()
    name = storage.save("timed.txt", ContentFile(b"x"))
    delta = abs((timezone.now() - storage.get_modified_time(name)).total_seconds())
    assert delta < 120


def test_local_urls_are_under_media_url(local_driver: Any) -> None:
    bucket = local_driver.new_container()
    storage = LibCloudStorage(providers={"p": local_driver.entry(bucket)}, provider_name="p")
    assert storage.url("x y.txt") == "/media/x%20y.txt"
    custom = LibCloudStorage(
        providers={"p": local_driver.entry(bucket)}, provider_name="p", base_url="https://cdn/f"
    )
    assert custom.url("x.txt") == "https://cdn/f/x.txt"


def test_an_s3_compatible_server_without_signing_gets_its_path_style_url() -> None:
    storage = LibCloudStorage(
        providers={
            "minio": {
                "type": "libcloud.storage.types.Provider.MINIO",
                "user": "u",
                "key": "k",
                "bucket": "media",
                "host": "127.0.0.1",
                "port": 9000,
                "secure": False,
            }
        },
        provider_name="minio",
    )
    with no_network():
        assert storage.url("a b.txt") == "http://127.0.0.1:9000/media/a%20b.txt"


@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024])
def test_open_for_writing_uploads_what_was_written(make_storage: Make, size: int) -> None:
    storage = make_storage()
    data = b"w" * size
    with storage.open("written.bin", "wb") as file:
        file.write(data)
    assert storage.size("written.bin") == size
    assert storage.open("written.bin").read() == data
