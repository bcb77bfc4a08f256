"""File objects: the spool, ranged reads, streaming reads and writes of StorageFile."""

from __future__ import annotations

import gzip
import io
import os
import tracemalloc
import uuid
from pathlib import Path
from typing import IO, Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_base.errors import TransientError
from storages_base.files import (
    CHUNK_SIZE,
    BinaryReader,
    RangedReader,
    SpooledFile,
    Stat,
    copy_stream,
    spooled_file,
)
from storages_base.memory import MemoryStorage
from storages_base.storage import WriteRequest


def _fd_path(file: Any) -> str:
    return os.readlink(f"/proc/self/fd/{file.fileno()}")


# -- the spool -----------------------------------------------------------------------------


def test_the_spool_keeps_small_content_in_memory(tmp_path: Path) -> None:
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        spool = spooled_file(100)
    spool.write(b"x" * 100)
    assert isinstance(spool, SpooledFile)
    assert not spool.on_disk


def test_the_spool_spills_to_disk_in_file_upload_temp_dir(tmp_path: Path) -> None:
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        spool = spooled_file(100)
    spool.write(b"x" * 101)
    assert isinstance(spool, SpooledFile)
    assert spool.on_disk
    assert _fd_path(spool).startswith(str(tmp_path) + "/")
    spool.seek(0)
    assert spool.read() == b"x" * 101


def test_a_file_written_through_open_spills_past_max_memory_size(tmp_path: Path) -> None:
    storage = MemoryStorage(bucket="spill", max_memory_size=10_000)
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        file = storage.open("big.bin", "wb")
    file.write(b"y" * 5_000)
    assert not file._raw.on_disk  # type: ignore[union-attr]
    file.write(b"y" * 6_000)
    assert file._raw.on_disk  # type: ignore[union-attr]
    assert _fd_path(file._raw).startswith(str(tmp_path) + "/")
    file.close()
    assert storage.size("big.bin") == 11_000


@pytest.mark.slow
def test_writing_through_open_holds_no_more_than_max_memory_size(tmp_path: Path) -> None:
    storage = MemoryStorage(bucket="spill", max_memory_size=256 * 1024)
    piece = os.urandom(64 * 1024)
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        file = storage.open("bounded.bin", "wb")
    tracemalloc.start()
    try:
        for _ in range(160):  # 10 MiB
            file.write(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert file.size == 160 * len(piece)
    assert peak < 1024 * 1024
    file._release()  # drop it: the point was the spool, not the store


def test_the_spool_works_under_a_text_wrapper() -> None:
    spool = spooled_file(10)
    text = io.TextIOWrapper(spool, encoding="utf-8")  # type: ignore[type-var]
    text.write("ünïcødé " * 10)
    text.flush()
    spool.seek(0)
    assert spool.read() == ("ünïcødé " * 10).encode()


# -- RangedReader ----------------------------------------------------------------------------


class Opener:
    """Counts the requests a reader makes, like a server's access log."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offsets: list[int] = []

    def __call__(self, offset: int) -> IO[bytes]:
        self.offsets.append(offset)
        return io.BytesIO(self.data[offset:])


DATA = bytes(range(256)) * 100


def test_a_ranged_reader_opens_once_for_sequential_reads() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA))
    assert reader.read(10) == DATA[:10]
    assert reader.read(10) == DATA[10:20]
    assert opener.offsets == [0]


def test_a_ranged_reader_reopens_at_the_offset_after_a_seek() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA))
    reader.read(5)
    reader.seek(20_000)
    assert reader.read(5) == DATA[20_000:20_005]
    reader.seek(-3, io.SEEK_END)
    assert reader.read() == DATA[-3:]
    reader.seek(100)
    reader.seek(-50, io.SEEK_CUR)
    assert reader.read(1) == DATA[50:51]
    assert opener.offsets == [0, 20_000, len(DATA) - 3, 50]


def test_a_seek_that_does_not_move_makes_no_request() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA))
    reader.read(10)
    reader.seek(10)
    reader.read(10)
    assert opener.offsets == [0]


def test_reading_at_the_end_makes_no_request() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA))
    reader.seek(len(DATA))
    assert reader.read() == b""
    assert opener.offsets == []


def test_a_reader_uses_the_stream_it_was_given_first() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA), stream=io.BytesIO(DATA))
    assert reader.read(3) == DATA[:3]
    assert opener.offsets == []


def test_a_backend_without_ranges_skips_forward_and_restarts_for_backward_seeks() -> None:
    opener = Opener(DATA)
    reader = RangedReader(opener, size=len(DATA), ranged=False)
    reader.seek(1000)
    assert reader.read(4) == DATA[1000:1004]
    reader.seek(5000)
    assert reader.read(4) == DATA[5000:5004]
    reader.seek(10)
    assert reader.read(4) == DATA[10:14]
    assert opener.offsets == [0, 0]


def test_seeking_from_the_end_needs_a_known_size() -> None:
    reader = RangedReader(Opener(DATA))
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(-1, io.SEEK_END)


def test_a_negative_position_is_refused() -> None:
    reader = RangedReader(Opener(DATA), size=len(DATA))
    with pytest.raises(ValueError, match="negative"):
        reader.seek(-1)


# -- BinaryReader and copy_stream --------------------------------------------------------------


def test_binary_reader_encodes_text_as_utf8_by_default() -> None:
    assert BinaryReader(io.StringIO("™€‰")).read() == "™€‰".encode()


def test_binary_reader_uses_the_given_encoding() -> None:
    assert BinaryReader(io.StringIO("™€‰"), encoding="utf-16").read() == "™€‰".encode("utf-16")


def test_binary_reader_hands_multibyte_text_out_in_small_reads() -> None:
    reader = BinaryReader(io.StringIO("ü" * 100))
    assert b"".join(iter(lambda: reader.read(3), b"")) == ("ü" * 100).encode()


def test_copy_stream_copies_every_byte_and_counts_them() -> None:
    target = io.BytesIO()
    data = os.urandom(CHUNK_SIZE * 2 + 5)
    assert copy_stream(io.BytesIO(data), target) == len(data)
    assert target.getvalue() == data


# -- StorageFile over a backend that counts what it sends ------------------------------------------


class CountingStorage(MemoryStorage):
    """A MemoryStorage that counts the bytes its reads deliver, as a server would."""

    sent = 0
    requests: list[int] = []

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        stream, stat = super()._read(key, offset)
        type(self).requests.append(offset)
        return _Counted(stream, type(self)), stat


class _Counted(io.RawIOBase):
    def __init__(self, stream: IO[bytes], owner: type[CountingStorage]) -> None:
        super().__init__()
        self.stream, self.owner = stream, owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.owner.sent += len(data)
        return len(data)


@pytest.fixture
def counting() -> CountingStorage:
    CountingStorage.sent, CountingStorage.requests = 0, []
    storage = CountingStorage(bucket="counting")
    storage.save("big.bin", ContentFile(os.urandom(8 * CHUNK_SIZE)))
    CountingStorage.sent, CountingStorage.requests = 0, []
    return storage


def test_reading_the_start_of_a_big_file_transfers_one_buffer_not_the_file(
    counting: CountingStorage,
) -> None:
    # django-storages #383: open().read(1024) of a 5 GB object downloaded all of it.
    with counting.open("big.bin") as file:
        assert len(file.read(1024)) == 1024
    assert counting.sent <= CHUNK_SIZE


def test_reading_the_tail_of_a_big_file_starts_the_transfer_there(
    counting: CountingStorage,
) -> None:
    with counting.open("big.bin") as file:
        file.seek(-100, io.SEEK_END)
        assert len(file.read()) == 100
    assert CountingStorage.requests == [0, 8 * CHUNK_SIZE - 100]
    assert counting.sent <= 100


def test_a_gzip_encoded_file_is_decompressed_as_it_is_read() -> None:
    storage = MemoryStorage(bucket="gz", gzip=True)
    css = b"a { color: red }\n" * 1000
    storage.save("site.css", ContentFile(css))
    assert len(storage._memory.files["site.css"][0]) < len(css)  # stored compressed
    assert storage.size("site.css") == len(css)  # size() is what read() returns
    with storage.open("site.css") as file:
        assert file.read(5) == css[:5]
        file.seek(0)
        assert file.read() == css
    stat = storage._stat("site.css")
    assert stat.content_encoding == "gzip"
    with storage.open("site.css") as file:
        raw = file._under[0]
    assert raw.closed  # the compressed stream under GzipFile is closed too
    assert gzip.decompress(storage._memory.files["site.css"][0]) == css


class Writer(io.RawIOBase):
    """A streaming upload: parts go out on write, commit() finishes, close() aborts."""

    def __init__(self, storage: StreamingStorage, key: str) -> None:
        super().__init__()
        self.storage, self.key, self.parts = storage, key, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts += data
        return len(data)

    def tell(self) -> int:
        return len(self.parts)

    def seekable(self) -> bool:
        return False

    def commit(self) -> None:
        self.storage.committed.append(self.key)
        self.storage._store(self.key, io.BytesIO(bytes(self.parts)))

    def close(self) -> None:
        if not self.closed and self.key not in self.storage.committed:
            self.storage.aborted.append(self.key)
        super().close()


class StreamingStorage(MemoryStorage):
    def configure(self) -> None:
        super().configure()
        self.committed: list[str] = []
        self.aborted: list[str] = []

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        return Writer(self, request.key)  # type: ignore[return-value]


def test_a_streaming_writer_is_committed_on_close() -> None:
    storage = StreamingStorage(bucket="streaming")
    with storage.open("s.txt", "w") as file:
        file.write("streamed ✓")
        assert file.size == len("streamed ✓".encode())
    assert storage.committed == ["s.txt"]
    assert storage.aborted == []
    assert storage.open("s.txt").read() == "streamed ✓".encode()


def test_a_streaming_writer_is_aborted_when_the_with_block_fails() -> None:
    storage = StreamingStorage(bucket="streaming")

    def fail() -> None:
        with storage.open("failed.txt", "wb") as file:
            file.write(b"part")
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        fail()
    assert storage.committed == []
    assert storage.aborted == ["failed.txt"]
    assert not storage.exists("failed.txt")


def test_writing_to_a_closed_file_raises() -> None:
    storage = MemoryStorage(bucket="closed")
    file = storage.open("c.txt", "wb")
    file.close()
    with pytest.raises(ValueError, match="closed file"):
        file.write(b"late")


def test_an_open_storage_file_refuses_to_pickle() -> None:
    import pickle

    storage = MemoryStorage(bucket="pickle-file")
    storage.save("p.txt", ContentFile(b"x"))
    with storage.open("p.txt") as file, pytest.raises(TypeError, match="pickle its name"):
        pickle.dumps(file)


def test_appending_to_a_gzip_encoded_file_appends_to_its_text() -> None:
    storage = MemoryStorage(bucket="gz-append", gzip=True)
    storage.save("log.css", ContentFile(b"a {}\n"))
    with storage.open("log.css", "ab") as file:
        file.write(b"b {}\n")
    assert storage.open("log.css").read() == b"a {}\nb {}\n"
    assert storage._stat("log.css").content_encoding == "gzip"


class CutOnce(Opener):
    """The first response stops after 100 bytes, as a dropped connection does."""

    def __call__(self, offset: int) -> IO[bytes]:
        stream = super().__call__(offset)
        return io.BytesIO(stream.read(100)) if len(self.offsets) == 1 else stream


def test_a_stream_cut_short_is_resumed_from_where_it_stopped() -> None:
    opener = CutOnce(DATA)
    reader = io.BufferedReader(RangedReader(opener, size=len(DATA)))
    assert reader.read() == DATA
    assert opener.offsets == [0, 100]


def test_a_stream_that_keeps_ending_early_raises_instead_of_truncating() -> None:
    def always_short(offset: int) -> IO[bytes]:
        return io.BytesIO(DATA[offset : offset + 100] if offset < 100 else b"")

    reader = RangedReader(always_short, size=len(DATA))
    with pytest.raises(TransientError, match="ended at byte 100"):
        reader.read()


def test_size_of_a_file_open_for_reading_comes_from_its_read(
    counting: CountingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats: list[str] = []
    stat = counting._stat
    monkeypatch.setattr(counting, "_stat", lambda key: stats.append(key) or stat(key))
    with counting.open("big.bin") as file:
        assert counting.size("big.bin") == 8 * CHUNK_SIZE == file.size
        assert stats == []  # the read's stat answered: no second request
    assert counting.size("big.bin") == 8 * CHUNK_SIZE
    assert stats == ["big.bin"]  # closed: the storage is asked again


def test_a_read_resumed_after_the_file_was_replaced_raises_instead_of_splicing() -> None:
    """A seek reopens the file at an offset; if another writer replaced it since the read
    began, the bytes from there are of another version: the read raises (no mix)."""
    storage = MemoryStorage(bucket=f"replaced-{uuid.uuid4().hex}", file_overwrite=True)
    old, new = b"a" * (3 * CHUNK_SIZE), b"b" * (3 * CHUNK_SIZE)
    storage.save("doc.bin", ContentFile(old))
    with storage.open("doc.bin") as file:
        assert file.read(10) == b"a" * 10
        storage.save("doc.bin", ContentFile(new))
        file.seek(2 * CHUNK_SIZE)
        with pytest.raises(TransientError, match="changed while it was read"):
            file.read()
    with storage.open("doc.bin") as file:
        file.seek(2 * CHUNK_SIZE)
        assert file.read() == new[2 * CHUNK_SIZE :]  # a read of one version resumes
