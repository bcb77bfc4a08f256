"""Uploads are atomic: a file being written is invisible, a replaced file never mixes."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.files.base import ContentFile

SIZE = 1024 * 1024


class PeekingStream(io.RawIOBase):
    """An upload source that calls ``peek`` once, halfway through the upload."""

    def __init__(self, size: int, peek: Any) -> None:
        self.left, self.half, self.peek = size, size // 2, peek
        self.seen: Any = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.peek is not None and self.left <= self.half:
            self.seen, self.peek = self.peek(), None
        n = min(len(buffer), self.left, 64 * 1024)
        buffer[:n] = b"p" * n
        self.left -= n
        return n


def test_a_file_being_uploaded_is_not_visible_under_its_name(storage_factory):
    storage = storage_factory()
    observer = storage_factory()  # another process, in effect: its own connections
    stream = PeekingStream(4 * SIZE, lambda: (observer.exists("new.bin"), observer.listdir("")))
    storage.save("new.bin", stream)
    assert stream.seen == (False, ([], []))
    assert observer.size("new.bin") == 4 * SIZE


def test_a_file_being_replaced_keeps_its_old_content_until_the_end(storage_factory):
    storage = storage_factory(file_overwrite=True)
    observer = storage_factory()
    storage.save("f.bin", ContentFile(b"o" * SIZE))

    def read_old() -> bytes:
        with observer.open("f.bin") as f:
            return bytes(f.read())

    stream = PeekingStream(2 * SIZE, read_old)
    storage.save("f.bin", stream)
    assert stream.seen == b"o" * SIZE
    assert observer.size("f.bin") == 2 * SIZE


@pytest.mark.slow
def test_readers_see_one_whole_version_while_a_writer_replaces_the_file(storage_factory):
    writer = storage_factory(file_overwrite=True)
    reader = storage_factory()
    versions = [bytes([c]) * SIZE for c in b"abcd"]
    writer.save("hot.bin", ContentFile(versions[0]))
    done = threading.Event()
    seen: list[bytes] = []

    def read_loop() -> None:
        while not done.is_set():
            with reader.open("hot.bin") as f:
                seen.append(bytes(f.read()))

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for i in range(24):
            writer.save("hot.bin", ContentFile(versions[i % 4]))
    finally:
        done.set()
        thread.join()
    assert seen
    assert all(data in versions for data in seen)  # never a mix, never a short file


def test_open_for_writing_streams_and_shows_the_file_only_on_close(storage_factory, root):
    storage = storage_factory()
    observer = storage_factory()
    with storage.open("w.bin", "wb") as f:
        for _ in range(8):
            f.write(b"w" * SIZE)
        assert f.size == 8 * SIZE
        assert not observer.exists("w.bin")
        (temporary,) = (p.name for p in root.iterdir())
        assert temporary.startswith(".storages-")
    assert (root / "w.bin").read_bytes() == b"w" * 8 * SIZE
    assert [p.name for p in root.iterdir()] == ["w.bin"]


def test_a_failed_with_block_while_writing_leaves_nothing_on_the_server(storage, root):
    storage.save("keep.txt", ContentFile(b"old"))

    def write_then_fail() -> None:
        with storage.open("keep.txt", "wb") as f:
            f.write(b"new, but never finished")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert sorted(p.name for p in root.iterdir()) == ["keep.txt"]
    assert (root / "keep.txt").read_bytes() == b"old"
