"""Content types and gzip: what is uploaded, and how."""

from __future__ import annotations

import gzip
import io
import random
import tracemalloc
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storages_base.content import (
    DEFAULT_CONTENT_TYPE,
    GzipCompressor,
    guess_content_type,
    should_gzip,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "image/jpeg"),
        ("style.css", "text/css"),
        ("app.js", "text/javascript"),
        ("logo.svg", "image/svg+xml"),
        ("archive.gz", "application/gzip"),
        ("backup.tar.gz", "application/gzip"),
        ("data.csv.bz2", "application/x-bzip2"),
        ("data.xz", "application/x-xz"),
        ("folder/no-extension", DEFAULT_CONTENT_TYPE),
        ("strange.zzzunknown", DEFAULT_CONTENT_TYPE),
    ],
)
def test_the_content_type_is_guessed_from_the_name(name: str, expected: str) -> None:
    assert guess_content_type(name) == expected


def test_a_compressed_file_gets_its_archive_type_never_an_encoding() -> None:
    # django-storages #451: "x.tar.gz" was sent as Content-Encoding: gzip, so
    # browsers unpacked the download. The type is the only thing guessed.
    assert guess_content_type("x.tar.gz") == "application/gzip"


def test_the_contents_own_content_type_wins_over_the_name() -> None:
    upload = SimpleUploadedFile("x.txt", b"x", content_type="image/png")
    assert guess_content_type("x.txt", upload) == "image/png"


def test_an_unknown_type_falls_back_to_the_given_default() -> None:
    assert guess_content_type("x.zzzunknown", default="binary/octet-stream") == (
        "binary/octet-stream"
    )


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/css", True),
        ("TEXT/CSS; charset=utf-8", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/gzip", False),
    ],
)
def test_should_gzip_compares_the_media_type_only(content_type: str, expected: bool) -> None:
    assert should_gzip(content_type, ("text/css", "image/svg+xml")) is expected


def test_gzip_output_decompresses_to_the_input() -> None:
    data = b"body { color: red }\n" * 10_000
    assert gzip.decompress(GzipCompressor(io.BytesIO(data)).read()) == data


def test_gzip_output_is_the_same_for_the_same_input() -> None:
    data = b"deterministic " * 1000
    first = GzipCompressor(io.BytesIO(data)).read()
    second = GzipCompressor(io.BytesIO(data)).read()
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # no timestamp in the header
    assert first[3] & 0x08 == 0  # no file name field


def test_gzip_accepts_text_sources_as_utf8() -> None:
    assert gzip.decompress(GzipCompressor(io.StringIO("ünï")).read()) == "ünï".encode()


def test_gzip_of_an_empty_source_is_a_valid_empty_archive() -> None:
    assert gzip.decompress(GzipCompressor(io.BytesIO(b"")).read()) == b""


def test_gzip_reads_in_small_pieces_give_the_same_bytes() -> None:
    data = bytes(range(256)) * 2000
    whole = GzipCompressor(io.BytesIO(data)).read()
    stream = GzipCompressor(io.BytesIO(data), chunk_size=1000)
    pieces = b"".join(iter(lambda: stream.read(7), b""))
    assert pieces == whole


class _Endless(io.RawIOBase):
    """``size`` bytes produced on demand (never held whole), a 64 KiB random block
    repeated: farther apart than deflate's 32 KiB window, so it barely compresses."""

    BLOCK = random.Random(1).randbytes(64 * 1024)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.left = size
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        start = self.position % len(self.BLOCK)
        count = min(len(buffer), self.left, len(self.BLOCK) - start)
        buffer[:count] = self.BLOCK[start : start + count]
        self.left -= count
        self.position += count
        return count


@pytest.mark.slow
def test_gzip_streams_with_memory_bounded_by_the_chunk_not_the_file() -> None:
    size = 32 * 1024 * 1024
    stream = GzipCompressor(_Endless(size), chunk_size=64 * 1024)
    check = zlib.decompressobj(31)
    total = 0
    tracemalloc.start()
    try:
        while chunk := stream.read(64 * 1024):
            total += len(check.decompress(chunk))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 2 * 1024 * 1024  # 32 MiB went through; far less was ever held
