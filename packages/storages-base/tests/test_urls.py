"""``published_url``: the URL of a file under a base URL, as FileSystemStorage builds it."""

from __future__ import annotations

import pytest
from django.core.files.storage import FileSystemStorage

from storages_base.urls import published_url

NAMES = ["a.txt", "a b/ü?#%.txt", "/lead.txt", "dir/"]
BASES = ["https://cdn.example/media/", "https://cdn.example/media", "/media/", "/m", ""]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("name", NAMES)
def test_the_url_is_the_one_filesystemstorage_gives(tmp_path, base: str, name: str) -> None:
    django = FileSystemStorage(location=tmp_path, base_url=base)
    assert published_url(base, name) == django.url(name)


def test_a_base_url_without_a_slash_is_a_folder_and_the_name_is_quoted() -> None:
    url = published_url("https://cdn.example/files", "a b/c?.txt")
    assert url == "https://cdn.example/files/a%20b/c%3F.txt"


def test_no_base_url_is_an_error_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="not accessible via a URL: set SFTP_BASE_URL"):
        published_url(None, "a.txt", setting="SFTP_BASE_URL")


@pytest.mark.parametrize("safe", ["/", "~", "/~", "/~!*()'"])
@pytest.mark.parametrize(
    "text", ["plain/name.txt", "a b+c&d=e", "ünï cødé/ãlöhâ.jpg", "emoji 😀 %41", "~tilde~", ""]
)
def test_quoter_matches_urllib_quote(safe: str, text: str) -> None:
    from urllib.parse import quote

    from storages_base.urls import Quoter

    assert Quoter(safe)(text) == quote(text, safe=safe)
