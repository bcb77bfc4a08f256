"""preload_metadata: exists() and modified times answered from one listing (collectstatic)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.files import Stat
from storages_base.memory import MemoryStorage


class CountingStorage(MemoryStorage):
    """A MemoryStorage that counts what would be requests on a server."""

    preload_metadata = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    def _scan(self, prefix: str) -> list[tuple[str, Stat]]:
        self.calls.append("scan")
        return super()._scan(prefix)

    def _stat(self, key: str) -> Stat:
        self.calls.append("stat")
        return super()._stat(key)


@pytest.fixture
def storage() -> CountingStorage:
    storage = CountingStorage(bucket="preload", location="static")
    storage.clear()
    MemoryStorage(bucket="preload", location="static").save("a.css", ContentFile(b"a"))
    MemoryStorage(bucket="preload", location="other").save("b.css", ContentFile(b"b"))
    return storage


def test_exists_and_modified_times_of_many_files_cost_one_listing(storage) -> None:
    with storage.batch():
        assert storage.exists("a.css")
        assert not storage.exists("missing.css")
        assert storage.get_modified_time("a.css") is not None
    assert storage.calls == ["scan"]


def test_outside_a_batch_the_server_answers_and_nothing_is_listed(storage) -> None:
    """A web worker's exists() never lists the location, nor trusts an old listing."""
    with storage.batch():
        storage.exists("a.css")
    storage.calls.clear()
    assert storage.exists("a.css")
    assert not storage.exists("missing.css")
    assert storage.get_modified_time("a.css") is not None
    assert "scan" not in storage.calls
    assert storage.calls == ["stat", "stat", "stat"]


def test_a_file_written_elsewhere_after_a_listing_is_never_called_missing(storage) -> None:
    """The second process: another storage (process) writes after this one listed."""
    other = MemoryStorage(bucket="preload", location="static")
    with storage.batch():
        assert not storage.exists("late.css")  # the listing, taken in this batch
    other.save("late.css", ContentFile(b"late"))
    assert storage.exists("late.css")  # outside a batch: the server
    with storage.batch():
        assert storage.exists("late.css")  # a new batch lists afresh
    assert storage.calls.count("scan") == 2


def test_a_miss_asked_for_a_modified_time_is_confirmed(storage) -> None:
    other = MemoryStorage(bucket="preload", location="static")
    with storage.batch():
        storage.exists("a.css")  # listed
        other.save("late.css", ContentFile(b"late"))
        assert storage.get_modified_time("late.css") is not None  # not FileNotFoundError
        with pytest.raises(FileNotFoundError):
            storage.get_modified_time("never.css")
    assert storage.calls == ["scan", "stat", "stat"]


def test_the_listing_covers_only_the_location(storage) -> None:
    with storage.batch():
        assert not storage.exists("b.css")
    assert storage.calls == ["scan"]


def test_a_file_the_storage_saves_or_deletes_is_never_answered_stale(storage) -> None:
    with storage.batch():
        storage.exists("a.css")
        storage.save("new.css", ContentFile(b"new"))
        storage.delete("a.css")

        assert storage.exists("new.css")  # known: this storage wrote it
        assert not storage.exists("a.css")
        assert storage.calls == ["scan"]
        assert storage.get_modified_time("new.css") is not None  # the server's time
        assert storage.calls == ["scan", "stat"]


def test_size_is_still_asked_of_the_server(storage) -> None:
    with storage.batch():
        assert storage.size("a.css") == 1
    assert storage.calls == ["stat"]


def test_storages_without_the_option_never_list(storage) -> None:
    plain = MemoryStorage(bucket="preload", location="static")
    with plain.batch():
        assert plain.exists("a.css")
    assert plain._preload is None


def test_an_old_listing_is_taken_again(storage) -> None:
    storage.preload_metadata_max_age = 0  # type: ignore[misc]
    with storage.batch():
        storage.exists("a.css")
        storage.exists("a.css")
    assert storage.calls == ["scan", "scan"]


def test_the_modified_time_of_a_file_being_read_costs_nothing_more() -> None:
    storage = CountingStorage(bucket="preload", location="open")
    storage.preload_metadata = False  # type: ignore[misc]
    storage.save("a.txt", ContentFile(b"a"))

    with storage.open("a.txt") as file:
        file.read()
        modified = storage.get_modified_time("a.txt")

    assert storage.calls == []
    assert modified == storage.get_modified_time("a.txt")  # closed: asked again
    assert storage.calls == ["stat"]
