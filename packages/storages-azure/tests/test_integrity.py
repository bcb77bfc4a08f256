"""Bytes corrupted between Azurite and the client: the user gets an error, never wrong
bytes. A loopback proxy in front of Azurite flips one byte of a response (or of an
upload's body); Azure's MD5s catch it, on each range read and on each block sent."""

from __future__ import annotations

import secrets

import pytest
from django.core.files.base import ContentFile

from storages_azure import AzureStorage
from storages_base import IntegrityError, StorageError

from .conftest import Azurite

MIB = 1024 * 1024


@pytest.fixture
def storage(counted: Azurite) -> AzureStorage:
    return counted.storage(counted.new_container())


def read_until_error(
    storage: AzureStorage, name: str, offset: int = 0, *plan: bool, proxy: Azurite
) -> bytearray:
    """Have the proxy corrupt the GETs that follow as ``plan`` says (opening is the first:
    it fetches the first range), open ``name``, seek to ``offset`` and read in small pieces,
    expecting an IntegrityError; return what was handed out before it."""
    got = bytearray()
    proxy.corrupt_responses(*plan)
    with storage.open(name) as file:
        file.seek(offset)
        with pytest.raises(IntegrityError, match="MD5"):  # noqa: PT012 (what came before it)
            while piece := file.read(64 * 1024):
                got += piece
    return got


def test_every_read_asks_azure_for_the_md5_of_its_range(
    counted: Azurite, storage: AzureStorage
) -> None:
    name = storage.save("md5/asked.txt", ContentFile(b"x" * 1024))
    mark = counted.mark()
    assert storage.open(name).read() == b"x" * 1024
    (request,) = counted.requests(mark)
    assert request.headers.get("x-ms-range-get-content-md5") == "true"


def test_a_corrupted_small_read_raises_and_hands_out_nothing(
    counted: Azurite, storage: AzureStorage
) -> None:
    data = secrets.token_bytes(1024)
    name = storage.save("md5/small.bin", ContentFile(data))
    assert read_until_error(storage, name, 0, True, proxy=counted) == b""
    assert storage.open(name).read() == data  # the stored blob is intact


def test_a_corrupted_range_of_a_large_blob_raises_after_the_good_ranges_only(
    counted: Azurite, storage: AzureStorage
) -> None:
    data = secrets.token_bytes(9 * MIB)  # three ranges of 4 MiB
    name = storage.save("md5/large.bin", ContentFile(data))
    got = read_until_error(storage, name, 0, False, True, proxy=counted)  # the second range
    assert len(got) == 4 * MIB
    assert got == data[: 4 * MIB]


def test_a_corrupted_range_fetched_ahead_raises_where_it_is_read(
    counted: Azurite, storage: AzureStorage
) -> None:
    # The third range is fetched and checked in the read-ahead thread, while the second is
    # handed out: its error comes when the reader reaches it, after every good byte.
    data = secrets.token_bytes(9 * MIB)
    name = storage.save("md5/ahead.bin", ContentFile(data))
    got = read_until_error(storage, name, 0, False, False, True, proxy=counted)
    assert got == data[: 8 * MIB]


def test_a_corrupted_range_after_a_seek_raises(counted: Azurite, storage: AzureStorage) -> None:
    data = secrets.token_bytes(6 * MIB)
    name = storage.save("md5/seek.bin", ContentFile(data))
    assert read_until_error(storage, name, 5 * MIB, False, True, proxy=counted) == b""
    with storage.open(name) as file:
        file.seek(5 * MIB)
        assert file.read() == data[5 * MIB :]


@pytest.mark.parametrize("size", [1024, 9 * MIB], ids=["put-blob", "put-block"])
def test_a_corrupted_upload_is_refused_by_azure_and_stores_nothing(
    counted: Azurite, storage: AzureStorage, size: int
) -> None:
    counted.corrupt_uploads(1)
    # Azure says Md5Mismatch (an IntegrityError); Azurite, InvalidOperation with the reason
    with pytest.raises(StorageError, match=r"(?i)md5"):
        storage.save(f"md5/upload-{size}.bin", ContentFile(secrets.token_bytes(size)))
    assert not storage.exists(f"md5/upload-{size}.bin")
    assert storage.listdir("md5") == ([], [])
