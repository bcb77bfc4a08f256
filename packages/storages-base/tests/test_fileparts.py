"""Parts of a file on disk: what a multipart upload sends without buffering them."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile, File

from storages_base.chunked import part_md5
from storages_base.fileparts import FilePart, file_parts

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def on_disk() -> Iterator[File]:
    with tempfile.TemporaryFile() as handle:
        handle.write(DATA)
        handle.seek(0)
        yield File(handle)


def test_parts_cover_the_file_from_its_position_in_order(on_disk: File) -> None:
    on_disk.seek(1000)
    parts = file_parts(on_disk, 4096, len(DATA) - 1000)

    assert parts is not None
    assert [len(p) for p in parts] == [4096, 4096, 1048]
    assert b"".join(p.read() for p in parts) == DATA[1000:]
    assert on_disk.tell() == 1000  # the file's own position is left alone


def test_parts_are_read_concurrently_and_rewound_for_a_retry(on_disk: File) -> None:
    parts = file_parts(on_disk, 1000, len(DATA))
    assert parts is not None

    def read_twice(part: FilePart) -> bytes:
        first = b"".join(iter(lambda: part.read(333), b""))
        part.seek(0)
        assert part.read() == first
        return first

    with ThreadPoolExecutor(4) as pool:
        assert b"".join(pool.map(read_twice, parts)) == DATA


def test_a_part_reads_into_a_buffer_and_seeks_like_a_file(on_disk: File) -> None:
    part = FilePart(on_disk.fileno(), 100, 50)
    buffer = bytearray(64)

    assert part.readinto(buffer) == 50
    assert bytes(buffer[:50]) == DATA[100:150]
    assert part.read() == b""
    assert part.seek(-10, io.SEEK_END) == 40
    assert part.read(100) == DATA[140:150]
    with pytest.raises(ValueError, match="negative"):
        part.seek(-1)


def test_a_file_truncated_under_a_part_is_an_error_not_a_short_part() -> None:
    with tempfile.TemporaryFile() as handle:
        handle.write(DATA)
        handle.flush()
        part = FilePart(handle.fileno(), 0, len(DATA))
        os.ftruncate(handle.fileno(), 100)

        assert len(part.read(100)) == 100
        with pytest.raises(OSError, match="truncated"):
            part.read()


@pytest.mark.parametrize(
    "content",
    [ContentFile(DATA), File(io.BytesIO(DATA)), io.BytesIO(DATA), b"bytes", None],
    ids=["ContentFile", "File(BytesIO)", "BytesIO", "bytes", "None"],
)
def test_content_not_on_disk_is_left_to_the_stream(content: object) -> None:
    assert file_parts(content, 1000, len(DATA)) is None


def test_a_pipe_or_a_size_that_does_not_match_is_left_to_the_stream(on_disk: File) -> None:
    assert file_parts(on_disk, 1000, len(DATA) + 1) is None  # still being written?
    assert file_parts(on_disk, 1000, None) is None
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "rb") as pipe:
            assert file_parts(pipe, 1000, 0) is None
    finally:
        os.close(write_end)


def test_an_empty_file_is_one_empty_part() -> None:
    with tempfile.TemporaryFile() as handle:
        parts = file_parts(handle, 1000, 0)
        assert parts is not None
        assert [len(p) for p in parts] == [0]


def test_a_part_hashed_for_its_checksum_is_then_sent_whole(on_disk: File) -> None:
    part = file_parts(on_disk, 4096, len(DATA))[1]  # type: ignore[index]
    part.read(10)
    assert part_md5(part) == hashlib.md5(DATA[4096:8192], usedforsecurity=False).digest()
    assert part.read() == DATA[4096:8192]
    assert part_md5(bytearray(b"abc")) == hashlib.md5(b"abc", usedforsecurity=False).digest()
