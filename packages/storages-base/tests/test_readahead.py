"""Read-ahead of a download in pieces: the same items in the same order, the next one
fetched in a thread, never before the caller asked for a second one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from storages_base.readahead import ReadAhead


class Source:
    """Items fetched one by one, recording which thread fetched each and when."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.fetched: list[int] = []
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def __iter__(self) -> Iterator[bytes]:
        for number in range(self.count):
            self.gate.wait(5)
            if number == self.fail_at:
                raise ConnectionResetError(f"lost at item {number}")
            self.fetched.append(number)
            self.threads.append(threading.current_thread().name)
            yield bytes([number]) * 4


def test_every_item_comes_once_in_order() -> None:
    source = Source(6)
    assert list(ReadAhead(iter(source))) == [bytes([n]) * 4 for n in range(6)]
    assert source.fetched == list(range(6))


def test_nothing_is_fetched_ahead_of_the_first_two_items() -> None:
    source = Source(6)
    items = ReadAhead(iter(source))
    next(items)
    assert source.fetched == [0]  # a reader that stops here costs one fetch
    next(items)
    assert source.threads[:2] == [threading.current_thread().name] * 2
    # The third is on its way, fetched by the read-ahead thread; never more than one ahead.
    assert next(items) == bytes([2]) * 4
    assert source.threads[2].startswith("storages-read-ahead")
    assert len(source.fetched) <= 4


def test_an_error_fetching_an_item_is_raised_where_that_item_is_asked_for() -> None:
    source = Source(6, fail_at=3)
    items = ReadAhead(iter(source))
    assert [next(items) for _ in range(3)] == [bytes([n]) * 4 for n in range(3)]
    with pytest.raises(ConnectionResetError, match="item 3"):
        next(items)
    assert list(items) == []  # the source is over: nothing past the failed item


def test_close_stops_fetching() -> None:
    source = Source(100)
    items = ReadAhead(iter(source))
    next(items), next(items)
    source.gate.clear()  # the item on its way waits
    items.close()
    source.gate.set()
    fetched = len(source.fetched)
    assert fetched <= 3
    assert list(items) == []
    assert len(source.fetched) <= 4
