"""One storage shared by many threads: each operation borrows a connection of its own."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile

pytestmark = pytest.mark.slow


def test_many_threads_share_one_storage_safely(storage, root):
    def work(i: int) -> list[str]:
        seen = []
        for j in range(6):
            data = hashlib.sha256(b"%d-%d" % (i, j)).digest() * (1000 + 97 * j)
            name = storage.save(f"t{i}/f{j}.bin", ContentFile(data))
            assert storage.exists(name)
            assert storage.size(name) == len(data)
            with storage.open(name) as f:
                assert f.read() == data
            assert f"f{j}.bin" in storage.listdir(f"t{i}")[1]
            seen.append(name)
        storage.delete(seen[0])
        return seen

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(32)))
    assert sum(len(names) for names in results) == 32 * 6
    assert sum(len(os.listdir(root / f"t{i}")) for i in range(32)) == 32 * 5
    assert storage.sessions.pool.idle <= storage.max_idle


def test_threads_reading_one_large_file_each_get_every_byte(storage):
    data = os.urandom(6 * 1024 * 1024)
    storage.save("shared.bin", ContentFile(data))
    digest = hashlib.sha256(data).hexdigest()

    def read(_: int) -> str:
        with storage.open("shared.bin") as f:
            return hashlib.sha256(b"".join(f.chunks(256 * 1024))).hexdigest()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(read, range(8))) == {digest}


def test_a_burst_of_threads_connecting_at_once_all_succeed(storage):
    # sshd's default MaxStartups (10:30:100) drops some of 40 simultaneous handshakes;
    # those are retried on a new connection.
    import threading

    barrier = threading.Barrier(40)

    def work(i: int) -> bool:
        barrier.wait()
        return storage.exists(f"x{i}")

    with ThreadPoolExecutor(max_workers=40) as pool:
        assert not any(pool.map(work, range(40)))
