"""listdir's own List Blobs request (``client.list_level``): one level, every page, names
as stored, errors as every other operation reports them, and the SDK's pipeline (its
credentials and retries) under it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from azure.storage.blob import generate_container_sas

from storages_azure import AzureStorage
from storages_azure.client import EMULATOR_KEY, _xml_name
from storages_base.errors import NotFoundError, PermissionDeniedError, StorageError

from .conftest import ACCOUNT, OTHER_KEY, Azurite

#: Names XML must escape (& < > " '), a URL must quote (% + # ? space) or both.
HOSTILE_FILES = [
    "R&D <draft>.txt",
    "quote\"s and 'apostrophes'.txt",
    "100% + more #1?.txt",
    "a file  with spaces.txt",
    "ünïcødé 文件.txt",
    "plain.txt",
]
HOSTILE_FOLDERS = ["Q&A <2024>", "50% off+", "sub"]


class Paged(AzureStorage):
    list_page_size = 2


def _fill(server: Azurite, container: str, folder: str) -> None:
    blobs = server.service().get_container_client(container)
    for name in HOSTILE_FILES:
        blobs.upload_blob(f"{folder}/{name}", b"f")
    for sub in HOSTILE_FOLDERS:
        blobs.upload_blob(f"{folder}/{sub}/inside.txt", b"f")
        blobs.upload_blob(f"{folder}/{sub}/deeper/x.txt", b"f")
    blobs.upload_blob(f"{folder}-sibling/not-listed.txt", b"f")  # a shared prefix


def test_listdir_pages_through_folders_and_files_whose_names_need_escaping(
    counted: Azurite,
) -> None:
    container = counted.new_container()
    folder = "site & co/media <all>"
    _fill(counted, container, folder)
    storage = Paged(**counted.options(container))
    mark = counted.mark()
    folders, files = storage.listdir(folder)
    seen = counted.requests(mark)
    assert sorted(folders) == sorted(HOSTILE_FOLDERS)
    assert sorted(files) == sorted(HOSTILE_FILES)
    # 9 entries, 2 a page: 5 requests, each one level under the folder, the markers of
    # the pages (names with & < % +...) sent back as Azure gave them.
    assert len(seen) == 5, [str(s) for s in seen]
    queries = [parse_qs(urlsplit(s.path).query) for s in seen]
    assert all(q["prefix"] == [f"{folder}/"] and q["delimiter"] == ["/"] for q in queries)
    assert "marker" not in queries[0]
    assert all("marker" in q for q in queries[1:])
    # the SDK's own listing of the same level agrees
    walked = [
        item.name
        for item in counted.service()
        .get_container_client(container)
        .walk_blobs(f"{folder}/", delimiter="/")
    ]
    assert sorted(folders + files) == sorted(n[len(folder) + 1 :].rstrip("/") for n in walked)


def test_listdir_of_a_hostile_folder_and_of_the_root_under_a_location(counted: Azurite) -> None:
    container = counted.new_container()
    _fill(counted, container, "loc/top")
    storage = Paged(**counted.options(container, location="loc"))
    assert storage.listdir("") == (["top", "top-sibling"], [])
    assert storage.listdir("top/Q&A <2024>") == (["deeper"], ["inside.txt"])
    assert storage.listdir("top/50% off+/deeper/") == ([], ["x.txt"])
    assert storage.listdir("top/nowhere") == ([], [])


def test_a_listing_whose_response_is_lost_is_sent_again_by_the_sdk(counted: Azurite) -> None:
    container = counted.new_container()
    counted.service().get_container_client(container).upload_blob("lost/kept.txt", b"k")
    storage = counted.storage(
        container, client_options={"initial_backoff": 0, "increment_base": 1, "retry_total": 2}
    )
    counted.lose_next_response("GET")
    mark = counted.mark()
    assert storage.listdir("lost") == ([], ["kept.txt"])
    assert [s.method for s in counted.requests(mark)] == ["GET", "GET"]


def test_listdir_of_a_missing_container_is_a_configuration_error(azurite: Azurite) -> None:
    storage = azurite.storage("no-such-container", client_options={"retry_total": 0})
    with pytest.raises(StorageError, match="container 'no-such-container' does not exist") as info:
        storage.listdir("any")
    assert not isinstance(info.value, NotFoundError)
    assert info.value.operation == "listdir"


def test_listdir_with_a_wrong_key_is_a_permission_error_naming_the_cause(
    azurite: Azurite, container: str
) -> None:
    storage = azurite.storage(container, account_key=OTHER_KEY, client_options={"retry_total": 0})
    with pytest.raises(PermissionDeniedError, match=r"AuthenticationFailed|AuthorizationFailure"):
        storage.listdir("")


def test_listdir_with_a_sas_lists_and_one_without_list_permission_is_refused(
    azurite: Azurite, container: str
) -> None:
    azurite.service().get_container_client(container).upload_blob("sas/a.txt", b"a")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)

    def sas(permission: str) -> str:
        return generate_container_sas(
            ACCOUNT, container, account_key=EMULATOR_KEY, expiry=expiry, permission=permission
        )

    assert azurite.storage(container, sas_token=sas("rl")).listdir("sas") == ([], ["a.txt"])
    denied = azurite.storage(container, sas_token=sas("r"), client_options={"retry_total": 0})
    with pytest.raises(PermissionDeniedError, match="'l' permission"):
        denied.listdir("sas")


def test_names_azure_percent_encodes_are_decoded() -> None:
    """Azure encodes a name XML cannot hold (``Encoded="true"``; Azurite never does)."""
    encoded = ElementTree.fromstring('<Name Encoded="true">a%01b%EF%BF%BE.txt</Name>')
    plain = ElementTree.fromstring("<Name>100%25 &amp; more.txt</Name>")
    assert _xml_name(encoded) == "a\x01b\ufffe.txt"
    assert _xml_name(plain) == "100%25 & more.txt"
