"""The chunked upload engine, against a tiny provider that keeps its parts in a dict.

``DictParts`` is the whole :class:`PartTarget` protocol over memory (no SDK is mocked:
it is what a provider writes, minus the network), so these tests state the engine's
promises once for S3, GCS, Azure and Dropbox: memory bounded by the parts in flight,
parts in order when sequential, nothing committed after any failure, part sizes grown
for streams of unknown size, the provider's alignment respected.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from storages_base.chunked import ChunkedWriter, Part, PartRules, PartTarget, upload

KiB = 1024
MiB = 1024 * KiB


class DictParts(PartTarget):
    """One upload into ``store[key]``; records what the engine asked for."""

    def __init__(
        self,
        store: dict[str, bytes],
        key: str,
        rules: PartRules,
        *,
        fail_part: int | None = None,
        keep: bool = True,
        delay: float = 0.0,
    ) -> None:
        self.store, self.key, self.rules = store, key, rules
        self.fail_part, self.keep, self.delay = fail_part, keep, delay
        self.staged: dict[int, bytes] = {}
        self.digests: dict[int, str] = {}
        self.sizes: list[int] = []  # part sizes in the order parts were sent
        self.calls: list[str] = []
        self.threads: set[str] = set()
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def put_single(self, data: bytes | bytearray) -> None:
        self.calls.append("put_single")
        self.store[self.key] = bytes(data)

    def begin(self) -> None:
        self.calls.append("begin")

    def send_part(self, number: int, data: Part) -> Any:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls.append(f"part {number}")
            self.threads.add(threading.current_thread().name)
        try:
            body = data.read() if isinstance(data, io.RawIOBase) else data
            time.sleep(self.delay)
            if number == self.fail_part:
                raise OSError(f"part {number} refused")
            with self._lock:
                self.sizes.append(len(body))
                self.digests[number] = hashlib.sha256(body).hexdigest()
                if self.keep:
                    self.staged[number] = bytes(body)
            return ("token", number)
        finally:
            with self._lock:
                self.in_flight -= 1

    def commit(self, tokens: list[Any]) -> None:
        self.calls.append("commit")
        assert tokens == [("token", n) for n in range(1, len(tokens) + 1)]
        if self.keep:
            self.store[self.key] = b"".join(self.staged[n] for _, n in tokens)

    def abort(self) -> None:
        self.calls.append("abort")
        self.staged.clear()


class Generated(io.RawIOBase):
    """``size`` bytes made as they are read, failing after ``fail_after`` if given."""

    def __init__(self, size: int, fail_after: int | None = None) -> None:
        self.size, self.pos, self.fail_after = size, 0, fail_after
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError("client went away")
        count = min(len(buffer), self.size - self.pos, 64 * KiB)
        chunk = (b"%015d\n" % (self.pos // 16)) * (count // 16 + 1)
        buffer[:count] = chunk[:count]
        self.digest.update(chunk[:count])
        self.pos += count
        return count


RULES = PartRules(min_size=64 * KiB)


def test_content_that_fits_one_part_is_one_request() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "small", RULES)
    upload(target, io.BytesIO(b"x" * 1000), size=1000, part_size=64 * KiB)
    assert target.calls == ["put_single"]
    assert store["small"] == b"x" * 1000


def test_an_empty_file_is_one_request() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "empty", RULES)
    upload(target, io.BytesIO(), size=0, part_size=64 * KiB)
    assert target.calls == ["put_single"]
    assert store["empty"] == b""


def test_one_at_a_time_sends_parts_in_order_from_the_callers_thread() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "seq", RULES)
    source = Generated(5 * 64 * KiB + 10)
    upload(target, source, size=None, part_size=64 * KiB, concurrency=1)
    assert target.calls == ["begin", *(f"part {n}" for n in range(1, 7)), "commit"]
    assert target.threads == {threading.current_thread().name}
    assert hashlib.sha256(store["seq"]).digest() == source.digest.digest()


def test_a_provider_that_takes_parts_in_order_gets_them_one_at_a_time() -> None:
    store: dict[str, bytes] = {}
    rules = PartRules(min_size=64 * KiB, max_in_flight=1)  # GCS, Dropbox
    target = DictParts(store, "seq", rules, delay=0.005)
    upload(target, Generated(6 * 64 * KiB), size=None, part_size=64 * KiB, concurrency=8)
    assert target.most_in_flight == 1
    assert target.calls == ["begin", *(f"part {n}" for n in range(1, 7)), "commit"]
    assert target.threads == {threading.current_thread().name}


@pytest.mark.parametrize("concurrency", [1, 4])
def test_memory_holds_a_few_parts_not_the_file(concurrency: int) -> None:
    target = DictParts({}, "big", PartRules(min_size=1 * MiB), keep=False, delay=0.01)
    source = Generated(48 * MiB)

    tracemalloc.start()
    try:
        upload(target, source, size=None, part_size=1 * MiB, concurrency=concurrency)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # The part being read, the parts in flight, and one transient copy of a part.
    print(f"peak {peak / MiB:.1f} MiB sending 48 MiB, {concurrency} part(s) of 1 MiB in flight")
    assert peak < (concurrency + 3) * MiB
    assert target.most_in_flight == concurrency  # never more: send() waits for a slot
    assert len(target.sizes) == 48


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("fail_part", [1, 3, 6])
def test_a_failed_part_aborts_and_commits_nothing(concurrency: int, fail_part: int) -> None:
    store = {"name": b"old"}
    target = DictParts(store, "name", RULES, fail_part=fail_part)
    with pytest.raises(OSError, match=f"part {fail_part} refused"):
        upload(
            target, Generated(6 * 64 * KiB), size=None, part_size=64 * KiB, concurrency=concurrency
        )
    assert "commit" not in target.calls
    assert target.calls[-1] == "abort"
    assert store == {"name": b"old"}


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_failing_read_of_the_content_aborts_and_commits_nothing(concurrency: int) -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "name", RULES)
    source = Generated(10 * 64 * KiB, fail_after=3 * 64 * KiB)
    with pytest.raises(OSError, match="client went away"):
        upload(target, source, size=None, part_size=64 * KiB, concurrency=concurrency)
    assert "begin" in target.calls
    assert "commit" not in target.calls
    assert target.calls[-1] == "abort"
    assert store == {}


def test_parts_of_a_stream_of_unknown_size_grow() -> None:
    target = DictParts({}, "long", PartRules(min_size=64 * KiB, grow_every=2))
    upload(target, Generated(13 * 64 * KiB), size=None, part_size=64 * KiB)
    assert [s // (64 * KiB) for s in target.sizes] == [1, 1, 2, 2, 4, 3]


def test_growth_stops_at_the_largest_part() -> None:
    rules = PartRules(min_size=64 * KiB, max_size=128 * KiB, grow_every=1)
    target = DictParts({}, "long", rules)
    upload(target, Generated(7 * 64 * KiB), size=None, part_size=64 * KiB)
    assert [s // (64 * KiB) for s in target.sizes] == [1, 2, 2, 2]


def test_a_known_size_raises_the_part_size_to_fit_the_most_parts() -> None:
    rules = PartRules(min_size=64 * KiB, max_parts=4)
    target = DictParts({}, "sized", rules)
    upload(target, Generated(10 * 64 * KiB), size=10 * 64 * KiB, part_size=64 * KiB)
    assert len(target.sizes) == 4
    assert rules.part_size(64 * KiB, 10 * 64 * KiB) == 160 * KiB


def test_every_part_but_the_last_is_a_multiple_of_the_alignment() -> None:
    rules = PartRules(min_size=256 * KiB, alignment=256 * KiB, grow_every=2)
    assert rules.part_size(300 * KiB) == 512 * KiB
    assert rules.part_size(256 * KiB, 100 * 1024 * MiB) == 256 * KiB
    assert PartRules(alignment=256 * KiB, max_size=600 * KiB).part_size(1 * MiB) == 512 * KiB

    target = DictParts({}, "gcs", rules)
    upload(target, Generated(5 * MiB + 7), size=None, part_size=300 * KiB)
    whole = target.sizes[:-1]
    assert len(whole) == 5
    assert all(size % (256 * KiB) == 0 for size in whole)
    assert sum(target.sizes) == 5 * MiB + 7


def test_a_file_on_disk_is_sent_as_parts_read_where_they_lie() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "disk", RULES, delay=0.02)
    source = Generated(10 * 64 * KiB + 5)
    with tempfile.TemporaryFile() as handle:
        while chunk := source.read(64 * KiB):
            handle.write(chunk)
        handle.seek(0)
        upload(
            target,
            handle,
            size=10 * 64 * KiB + 5,
            part_size=64 * KiB,
            concurrency=1,
            source=handle,
            file_part_size=128 * KiB,
            file_concurrency=3,
        )
        assert handle.tell() == 0  # read by offset: the file's position never moved
    assert sorted(target.sizes) == [5] + [128 * KiB] * 5
    assert 1 < target.most_in_flight <= 3
    assert hashlib.sha256(store["disk"]).digest() == source.digest.digest()


# -- the streaming writer ------------------------------------------------------------------


def write_all(writer: ChunkedWriter, data: bytes, size: int) -> None:
    for start in range(0, len(data), size):
        writer.write(data[start : start + size])


def test_a_writer_sends_parts_as_its_buffer_fills_and_commits_in_order() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "w", RULES)
    writer = ChunkedWriter(target, 64 * KiB)
    data = bytes(range(256)) * 1100  # 275 KiB
    write_all(writer, data, 10_000)
    assert target.calls[:3] == ["begin", "part 1", "part 2"]  # sent while writing
    assert writer.tell() == len(data)
    writer.commit()
    assert target.calls[-1] == "commit"
    assert store["w"] == data
    assert writer.closed


def test_a_small_writer_is_one_request() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "w", RULES)
    writer = ChunkedWriter(target, 64 * KiB)
    writer.write(b"hello")
    writer.commit()
    assert target.calls == ["put_single"]
    assert store["w"] == b"hello"


def test_a_writer_closed_without_commit_aborts() -> None:
    store = {"w": b"old"}
    target = DictParts(store, "w", RULES)
    writer = ChunkedWriter(target, 64 * KiB)
    writer.write(b"y" * (200 * KiB))
    writer.close()
    assert target.calls[-1] == "abort"
    assert store == {"w": b"old"}


def test_a_writer_whose_part_fails_aborts_and_closes() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "w", RULES, fail_part=2)
    writer = ChunkedWriter(target, 64 * KiB)
    with pytest.raises(OSError, match="part 2 refused"):
        write_all(writer, b"z" * (400 * KiB), 32 * KiB)
    assert writer.closed
    assert target.calls[-1] == "abort"
    assert store == {}


def test_a_writer_respects_alignment_and_grows_its_parts() -> None:
    rules = PartRules(min_size=256 * KiB, alignment=256 * KiB, grow_every=2)
    target = DictParts({}, "w", rules)
    writer = ChunkedWriter(target, 300 * KiB)
    write_all(writer, b"a" * (3 * MiB + 1), 100_001)
    writer.commit()
    assert [s // (256 * KiB) for s in target.sizes[:-1]] == [2, 2, 4, 4]
    assert sum(target.sizes) == 3 * MiB + 1


def test_a_compressing_writer_stores_gzip_of_what_was_written() -> None:
    store: dict[str, bytes] = {}
    target = DictParts(store, "w.css", RULES)
    writer = ChunkedWriter(target, 64 * KiB, compress=True)
    data = b"body { color: red }\n" * 50_000  # 1 MB, compresses well
    write_all(writer, data, 4096)
    assert writer.tell() == len(data)  # what the user wrote, not what was sent
    writer.commit()
    assert gzip.decompress(store["w.css"]) == data
    assert len(store["w.css"]) < len(data) // 10


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_writers_memory_holds_a_few_parts(concurrency: int) -> None:
    target = DictParts({}, "w", PartRules(min_size=1 * MiB), keep=False, delay=0.01)
    chunk = b"q" * (256 * KiB)

    def write() -> None:
        writer = ChunkedWriter(target, 1 * MiB, concurrency=concurrency)
        for _ in range(128):  # 32 MiB
            writer.write(chunk)
        writer.commit()

    peak = _peak(write)
    assert peak < (concurrency + 3) * MiB
    assert target.most_in_flight == concurrency


def _peak(operation: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        operation()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
