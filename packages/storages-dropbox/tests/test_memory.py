"""Large files move with memory bounded by a part, not by the file (the classic backend
read a whole download into memory). Measured with tracemalloc, which counts the local
server's allocations too: they are bounded the same way (1 MiB pieces, one part a call)."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from django.core.files import File

from storages_dropbox import DropboxStorage
from storages_dropbox.testing import DropboxServer, content_hash

MiB = 1024 * 1024
SIZE = 72 * MiB
BOUND = 32 * MiB  # measured ~20 MiB: 8 MiB parts (the one read, its bytes, the server's copy)


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_save_and_read_stay_within_a_few_parts(
    tmp_path: Path, make_storage: Callable[..., DropboxStorage], server: DropboxServer
) -> None:
    storage = make_storage(write_mode="overwrite")
    source = tmp_path / "big.bin"
    with source.open("wb") as file:
        for i in range(SIZE // MiB):
            file.write(os.urandom(1024) * 1024 if i % 9 == 0 else bytes([i]) * MiB)

    def save() -> None:
        with source.open("rb") as file:
            storage.save("memory/big.bin", File(file, "big.bin"))

    assert _peak(save) < BOUND

    def read() -> None:
        with storage.open("memory/big.bin") as file:
            while file.read(MiB):
                pass

    assert _peak(read) < 12 * MiB  # measured ~6 MiB
    assert server.tree["/memory/big.bin"].hash == content_hash(source.read_bytes())
