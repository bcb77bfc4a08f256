"""open()'s own first GET (``client.get_range``): the stat from its headers, an empty
blob, the rest of a large blob only while it is the blob first read, errors mapped."""

from __future__ import annotations

import secrets

import pytest
from django.core.files.base import ContentFile

from storages_azure import AzureStorage
from storages_base.errors import NotFoundError, PermissionDeniedError, StorageError

from .conftest import OTHER_KEY, Azurite

MIB = 1024 * 1024


@pytest.fixture
def counted_storage(counted: Azurite) -> AzureStorage:
    return counted.storage(counted.new_container(), expiration_secs=600)


def test_the_stat_an_open_brings_is_the_one_a_head_gives(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    name = counted_storage.save("stat/page.html", ContentFile(b"<p>x</p>" * 100))
    fresh = AzureStorage(**counted.options(counted_storage.azure_container))
    mark = counted.mark()
    with counted_storage.open(name) as file:
        got = (
            file.read(),
            counted_storage.size(name),
            counted_storage.get_modified_time(name),
            counted_storage.get_created_time(name),
        )
    assert [r.method for r in counted.requests(mark)] == ["GET"]
    assert got == (
        b"<p>x</p>" * 100,
        fresh.size(name),
        fresh.get_modified_time(name),
        fresh.get_created_time(name),
    )
    assert got[2].utcoffset() is not None  # aware, as the SDK's


def test_an_empty_blob_reads_as_empty_in_the_requests_the_sdk_sends(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    name = counted_storage.save("empty/none.txt", ContentFile(b""))
    mark = counted.mark()
    with counted_storage.open(name) as file:
        assert file.read() == b""
        assert file.size == 0
    # a range of nothing is refused (416): the SDK then GETs the whole blob, as here
    assert [r.method for r in counted.requests(mark)] == ["GET", "GET"]


def test_a_large_read_goes_on_only_while_the_blob_is_the_one_first_read(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    data = secrets.token_bytes(9 * MIB)
    name = counted_storage.save("large/one.bin", ContentFile(data))
    mark = counted.mark()
    with counted_storage.open(name) as file:
        assert file.read() == data
    gets = counted.requests(mark)
    assert [r.headers.get("x-ms-range") for r in gets] == [
        f"bytes=0-{4 * MIB - 1}",
        f"bytes={4 * MIB}-{8 * MIB - 1}",
        f"bytes={8 * MIB}-{9 * MIB - 1}",
    ]
    etag = counted_storage.client.get_blob_client(name).get_blob_properties().etag
    assert "If-Match" not in gets[0].headers
    assert all(r.headers.get("If-Match") == etag for r in gets[1:])
    # replaced after the first range was read: the rest is refused, never mixed in
    with counted_storage.open(name) as file:
        first = file.read(MIB)
        counted.service().get_container_client(counted_storage.azure_container).upload_blob(
            name, secrets.token_bytes(9 * MIB), overwrite=True
        )
        with pytest.raises(StorageError):  # noqa: PT012 (what came before it)
            while file.read(MIB):
                pass
    assert first == data[:MIB]


def test_reading_a_missing_blob_or_container_or_with_a_wrong_key_is_mapped(
    azurite: Azurite, container: str
) -> None:
    storage = azurite.storage(container, client_options={"retry_total": 0})
    with pytest.raises(FileNotFoundError):
        storage.open("missing/none.txt")
    with pytest.raises(NotFoundError):
        storage.open("missing/none.txt")
    gone = azurite.storage("no-such-container", client_options={"retry_total": 0})
    with pytest.raises(StorageError, match="container 'no-such-container' does not exist"):
        gone.open("a.txt")
    wrong = azurite.storage(container, account_key=OTHER_KEY, client_options={"retry_total": 0})
    with pytest.raises(PermissionDeniedError, match=r"AuthenticationFailed|AuthorizationFailure"):
        wrong.open("a.txt")


def test_a_read_from_past_the_end_is_empty_without_an_error(
    counted_storage: AzureStorage,
) -> None:
    name = counted_storage.save("seek/short.txt", ContentFile(b"0123456789"))
    with counted_storage.open(name) as file:
        file.seek(4)
        assert file.read() == b"456789"
        file.seek(50)
        assert file.read() == b""


def test_the_stat_of_a_head_is_what_the_sdks_blob_properties_say(
    counted: Azurite, counted_storage: AzureStorage
) -> None:
    name = counted_storage.save("stat/head.css", ContentFile(b"p { color: red }" * 64))
    mark = counted.mark()
    got = (
        counted_storage.size(name),
        counted_storage.get_modified_time(name),
        counted_storage.get_created_time(name),
    )
    assert [r.method for r in counted.requests(mark)] == ["HEAD", "HEAD", "HEAD"]
    properties = counted_storage.client.get_blob_client(name).get_blob_properties()
    assert got == (properties.size, properties.last_modified, properties.creation_time)
    assert counted_storage.exists(name)
    assert not counted_storage.exists(name + ".missing")
