"""Requests per operation, counted on the wire (a logging proxy in front of Azurite).

These are the numbers of the README's "What each operation costs".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile

from storages_azure import AzureStorage

from .conftest import Azurite


@pytest.fixture
def counted_storage(counted: Azurite) -> AzureStorage:
    return counted.storage(counted.new_container(), expiration_secs=600)


def requests_of(server: Azurite, action: object) -> list[str]:
    mark = server.mark()
    assert callable(action)
    action()
    return [str(request) for request in server.requests(mark)]


def test_a_small_save_is_one_put_also_when_not_overwriting(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    assert counted_storage.file_overwrite is False  # AZURE_OVERWRITE_FILES' default
    seen = requests_of(counted, lambda: counted_storage.save("a/one.txt", ContentFile(b"x" * 99)))
    assert len(seen) == 1, seen
    assert seen[0].startswith("PUT "), seen


def test_a_save_to_a_taken_name_is_two_puts_and_no_exists(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    counted_storage.save("a/taken.txt", ContentFile(b"first"))
    names: list[str] = []
    seen = requests_of(
        counted, lambda: names.append(counted_storage.save("a/taken.txt", ContentFile(b"second")))
    )
    assert names[0] != "a/taken.txt"
    # The clash is found by the create-only PUT, sent once: somebody else's blob.
    assert [s.split()[0] for s in seen] == ["PUT", "PUT"], seen


def test_open_and_read_of_a_small_file_is_one_get_and_its_size_is_free(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    name = counted_storage.save("a/read.txt", ContentFile(b"k" * 1024))
    out: list[object] = []

    def read() -> None:
        with counted_storage.open(name) as file:
            out.append(file.read())
            out.append(file.size)
            out.append(counted_storage.size(name))
            out.append(counted_storage.get_modified_time(name))

    seen = requests_of(counted, read)
    assert out[:3] == [b"k" * 1024, 1024, 1024]
    assert len(seen) == 1, seen
    assert seen[0].startswith("GET "), seen


def test_a_large_read_is_one_get_per_range_read_ahead_or_not(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    data = bytes(range(256)) * (9 * 4096)  # 9 MiB: three ranges of 4 MiB
    name = counted_storage.save("a/ranges.bin", ContentFile(data))
    got = bytearray()

    def read_all() -> None:
        with counted_storage.open(name) as file:
            while piece := file.read(64 * 1024):
                got.extend(piece)

    seen = requests_of(counted, read_all)
    assert got == data
    assert [s.split()[0] for s in seen] == ["GET"] * 3, seen


def test_reading_the_start_of_a_large_file_fetches_nothing_ahead(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    data = bytes(range(256)) * (9 * 4096)
    name = counted_storage.save("a/head.bin", ContentFile(data))
    out: list[bytes] = []

    def read_head() -> None:
        with counted_storage.open(name) as file:
            out.append(file.read(1024))
            out.append(file.read(4 * 1024 * 1024 - 1024))  # the rest of the first range

    seen = requests_of(counted, read_head)
    assert b"".join(out) == data[: 4 * 1024 * 1024]
    assert len(seen) == 1, seen


def test_closing_a_read_with_a_range_on_its_way_fetches_no_more(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    data = bytes(range(256)) * (16 * 4096)  # 16 MiB: four ranges
    name = counted_storage.save("a/closed.bin", ContentFile(data))
    mark = counted.mark()
    with counted_storage.open(name) as file:
        assert file.read(5 * 1024 * 1024) == data[: 5 * 1024 * 1024]  # the third is coming
    # The range on its way when the file closed is the last one fetched.
    assert len(counted.requests(mark)) <= 3
    with counted_storage.open(name) as file:  # the storage reads on as before
        assert file.read() == data


@pytest.mark.parametrize("operation", ["exists", "size", "get_modified_time", "delete"])
def test_metadata_and_delete_are_one_request_each(
    counted: Azurite, counted_storage: AzureStorage, operation: str
) -> None:
    name = counted_storage.save("a/meta.txt", ContentFile(b"m"))
    seen = requests_of(counted, lambda: getattr(counted_storage, operation)(name))
    assert len(seen) == 1, seen


def test_url_makes_no_request(counted: Azurite, counted_storage: AzureStorage) -> None:
    seen = requests_of(
        counted,
        lambda: [
            counted_storage.url("a/x.txt"),
            counted_storage.url("a/y.txt", expire=None),
            counted_storage.url("a/z.txt", mode="w"),
        ],
    )
    assert seen == []


def test_listdir_costs_one_request_per_page_of_the_folder_not_of_the_container(
    counted: Azurite,
) -> None:
    container = counted.new_container()
    blobs = counted.service().get_container_client(container)
    for i in range(40):  # elsewhere in the container: must not be listed or paged through
        blobs.upload_blob(f"other/{i:03d}.txt", b"o")
    for i in range(5):
        blobs.upload_blob(f"site/media/docs/{i}.txt", b"d")
    blobs.upload_blob("site/media/docs/sub/deep.txt", b"d")
    blobs.upload_blob("site/media/docs/sub2/deeper/x.txt", b"d")

    class Paged(AzureStorage):
        list_page_size = 2

    storage = Paged(**counted.options(container, location="site/media"))
    out: list[tuple[list[str], list[str]]] = []
    seen = requests_of(counted, lambda: out.append(storage.listdir("docs")))
    assert out[0] == (["sub", "sub2"], ["0.txt", "1.txt", "2.txt", "3.txt", "4.txt"])
    assert len(seen) == 4, seen  # 7 entries, 2 a page
    assert storage.list_all("docs") == [
        *(f"docs/{i}.txt" for i in range(5)),
        "docs/sub/deep.txt",
        "docs/sub2/deeper/x.txt",
    ]


def test_a_large_save_is_one_request_per_block_and_one_commit(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    data = bytes(range(256)) * (17 * 4096)  # 17 MiB: three blocks of 8 MiB
    seen = requests_of(counted, lambda: counted_storage.save("a/large.bin", ContentFile(data)))
    assert len(seen) == 4, seen
    assert sum("blockid=" in s for s in seen) == 3, seen
    assert sum("comp=blocklist" in s for s in seen) == 1, seen
    with counted_storage.open("a/large.bin") as file:
        assert file.read() == data


def test_a_put_whose_response_is_lost_and_that_the_sdk_resends_keeps_its_name(
    counted: Azurite,
) -> None:
    """The proxy forwards the first PUT to Azurite, which stores the blob, then drops the
    connection before answering; the SDK's own retry meets the blob (409), and the token
    in its metadata shows it is this very save: the name is kept, no copy is made."""
    storage = counted.storage(
        counted.new_container(),
        client_options={"initial_backoff": 0, "increment_base": 1, "retry_total": 2},
    )
    counted.lose_next_response("PUT")
    name = storage.save("lost/response.txt", ContentFile(b"once"))
    assert name == "lost/response.txt"
    assert storage.listdir("lost") == ([], ["response.txt"])
    # Another save of the name is another write: its clash is somebody else's blob.
    assert storage.save("lost/response.txt", ContentFile(b"twice")) != name


def test_requests_are_prepared_without_the_session_merges(
    make_storage: Callable[..., AzureStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' per-request merges of the session's settings are skipped (about 37 us
    of client CPU per request) when there is nothing to merge; signing is the SDK's."""
    from storages_base.testing.quiet import check_requests_skip_session_merges

    check_requests_skip_session_merges(lambda: make_storage(expiration_secs=600), monkeypatch)
