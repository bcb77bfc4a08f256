"""Name cleaning, joining under a location, validation and truncation."""

from __future__ import annotations

import datetime
import pathlib
import pickle
import re

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages_base import names as names_module
from storages_base.names import (
    clean_name,
    random_suffix_name,
    safe_join,
    truncate_name,
    validate_name,
)


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("path/to/somewhere", "path/to/somewhere"),
        (pathlib.Path("path/to/anywhere"), "path/to/anywhere"),
        (pathlib.PurePath("path/to/anywhere"), "path/to/anywhere"),
        ("path/to/../somewhere", "path/somewhere"),
        ("path/to/somewhere/", "path/to/somewhere/"),
        ("path\\to\\somewhere", "path/to/somewhere"),
        ("./a//b/./c.txt", "a/b/c.txt"),
        (".", ""),
        ("", ""),
        ("//double/leading", "/double/leading"),
        ("../kept/for/safe_join", "../kept/for/safe_join"),
    ],
)
def test_clean_name_normalises_like_upstream(name: str, cleaned: str) -> None:
    assert clean_name(name) == cleaned


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (
            ("", "path/to/somewhere", "other", "path/to/somewhere"),
            "path/to/somewhere/other/path/to/somewhere",
        ),
        (("", "path/./somewhere/../other", "..", ".", "to/./somewhere"), "path/to/somewhere"),
        (("", "."), ""),
        (("base_url", "path/to/somewhere"), "base_url/path/to/somewhere"),
        (("base_url/", "path/to/somewhere"), "base_url/path/to/somewhere"),
        (("base_url/", "path/to/somewhere/"), "base_url/path/to/somewhere/"),
        (("base_url/", "path/to/", "somewhere/"), "base_url/path/to/somewhere/"),
        (
            ("base_url", datetime.datetime(2017, 5, 19, 14, 45, 37, 123456).isoformat()),
            "base_url/2017-05-19T14:45:37.123456",
        ),
        (("base_url", ""), "base_url/"),
        (("base_url", "."), "base_url/"),
        (("base_url", ".", "path/to/", "."), "base_url/path/to/"),
        (("",), ""),
        (("base_url",), "base_url/"),
    ],
)
def test_safe_join_matches_the_thirteen_upstream_examples(
    parts: tuple[str, ...], joined: str
) -> None:
    assert safe_join(*parts) == joined


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("base", "../../../../../../../etc/passwd"),
        ("base", "/etc/passwd"),
        ("base", ".."),
        ("base", "../base-sibling/file"),
        ("media/uploads", "../other.txt"),
    ],
)
def test_safe_join_refuses_a_path_leaving_the_base(base: str, path: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        safe_join(base, path)


@pytest.mark.parametrize(
    "path", ["../../x", "..", "a/../../x", "../", "/etc/passwd", "..\\windows\\style"]
)
def test_safe_join_refuses_traversal_with_an_empty_location_too(path: str) -> None:
    # django-storages #1558: with location "" it clamped "../../x" to "x" at the root.
    with pytest.raises(SuspiciousFileOperation):
        safe_join("", path)


def test_safe_join_allows_dot_dot_that_stays_inside_the_base() -> None:
    assert safe_join("base", "a/../b.txt") == "base/b.txt"
    assert safe_join("", "a/b/../c") == "a/c"


@pytest.mark.parametrize(
    "name",
    [
        "nul\x00.txt",
        "line\nbreak.txt",
        "cr\r.txt",
        "tab\t.txt",
        "esc\x1b.txt",
        "del\x7f.txt",
        "c1\x85.txt",
    ],
)
def test_validate_name_refuses_control_characters(name: str) -> None:
    with pytest.raises(SuspiciousFileOperation, match="control character"):
        validate_name(name)


@pytest.mark.parametrize("name", ["a/../b.txt", "../b.txt", "", ".", "folder/.."])
def test_validate_name_refuses_what_django_refuses(name: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        validate_name(name)


@pytest.mark.parametrize("name", ["ok.txt", "folder/ünïcødé name.txt", "a/b/c/.hidden"])
def test_validate_name_accepts_ordinary_names(name: str) -> None:
    validate_name(name)


@pytest.mark.parametrize(
    ("name", "limit", "result"),
    [
        ("superlong/file/with/path.txt", None, "superlong/file/with/path.txt"),
        ("parent/child.txt", 16, "parent/child.txt"),
        ("parent/child.txt", 17, "parent/child.txt"),
        ("parent/child.txt", 15, "parent/chil.txt"),
        ("parent/backup.tar.gz", 18, "parent/back.tar.gz"),
        ("noextension", 5, "noext"),
    ],
)
def test_truncate_name_cuts_the_root_and_keeps_folder_and_extension(
    name: str, limit: int | None, result: str
) -> None:
    assert truncate_name(name, limit) == result


def test_truncate_name_raises_when_nothing_of_the_root_would_be_left() -> None:
    with pytest.raises(SuspiciousFileOperation, match="allows 11 characters"):
        truncate_name("parent/child.txt", 11)


def test_random_suffix_name_adds_seven_characters_before_the_extension() -> None:
    name = random_suffix_name("docs/report.tar.gz")
    assert re.fullmatch(r"docs/report_[A-Za-z0-9]{7}\.tar\.gz", name)
    assert random_suffix_name("docs/report.tar.gz") != name


def test_random_suffix_name_shortens_the_root_to_fit_a_limit() -> None:
    name = random_suffix_name("d/" + "r" * 50 + ".txt", max_length=30)
    assert len(name) == 30
    assert name.startswith("d/rrr")
    assert name.endswith(".txt")


def test_random_suffix_name_raises_when_the_limit_leaves_no_room() -> None:
    with pytest.raises(SuspiciousFileOperation):
        random_suffix_name("folder/name.txt", max_length=15)


def test_a_save_resolves_its_name_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.files.base import ContentFile

    from storages_base.memory import MemoryStorage

    storage = MemoryStorage(bucket="resolve-once", location="media")
    seen: list[str] = []
    clean = names_module.clean_name
    monkeypatch.setattr(
        names_module, "clean_name", lambda name: seen.append(str(name)) or clean(name)
    )
    assert storage.save("a//b/./c.txt", ContentFile(b"x")) == "a/b/c.txt"
    # The file's name is cleaned and joined once, then passed down (safe_join cleans the
    # location it joins under each time, which is not the name).
    assert [name for name in seen if name != "media"] == ["a//b/./c.txt"]


def test_a_resolved_name_is_a_plain_string_with_its_key() -> None:
    resolved = names_module.resolve("docs//a.txt", "media")
    assert resolved == "docs/a.txt"
    assert resolved.key == "media/docs/a.txt"
    assert names_module.resolve(resolved, "media") is resolved
    assert names_module.resolve(resolved, "other").key == "other/docs/a.txt"
    assert pickle.loads(pickle.dumps(resolved)) == "docs/a.txt"
    with pytest.raises(SuspiciousFileOperation):
        names_module.resolve("../up.txt", "media")


def test_resolve_remembers_plain_names_and_still_refuses_each_time():
    first = names_module.resolve("a/./b.txt", "media")
    assert names_module.resolve("a/./b.txt", "media") is first
    assert (first, first.key) == ("a/b.txt", "media/a/b.txt")
    assert names_module.resolve("a/./b.txt", "other").key == "other/a/b.txt"
    for _ in range(2):
        with pytest.raises(SuspiciousFileOperation):
            names_module.resolve("../up.txt", "media")
    path = names_module.resolve(pathlib.PurePosixPath("a/b.txt"), "media")
    assert path.key == "media/a/b.txt"


def test_lone_surrogates_are_refused_like_control_characters() -> None:
    with pytest.raises(SuspiciousFileOperation, match="lone surrogate"):
        names_module.resolve("lone\ud800.txt", "media")


def test_parts_over_the_servers_limit_are_refused() -> None:
    names_module.refuse_long_parts("d/" + "é" * 125 + ".txt", 255)  # 254 bytes
    names_module.refuse_long_parts("x" * 300, None)
    with pytest.raises(SuspiciousFileOperation, match="part of 258 bytes"):
        names_module.refuse_long_parts("d/" + "é" * 127 + ".txt" + "/f", 255)


@pytest.mark.parametrize("name", [".", "./", "a/..", "a/../", ".//", "a/./../"])
def test_names_that_clean_to_the_location_itself_are_empty(name: str) -> None:
    assert names_module.clean_name(name) == ""


def test_resolve_shortcut_for_clean_names_agrees_with_clean_name_and_safe_join() -> None:
    """resolve() skips clean_name()/safe_join() for names already clean: every name of up
    to three pieces from a hostile alphabet, under locations that are clean, unclean or
    climbing, gets the same cleaned name and key, or the same refusal, as the full path."""
    import itertools

    pieces = ["a", "é", "/", ".", "..", "\\", " ", "\x00", "\x9f", "//", "./", "~"]
    locations = ["", "media", "/media/", "a//b/", "x\\y", ".", "a/..", "..", "../x", "a/../../b"]

    def full(name: str, location: str) -> tuple[str, str] | str:
        try:
            names_module.refuse_control_characters(name)
            cleaned = clean_name(name)
            return cleaned, safe_join(location, cleaned)
        except SuspiciousFileOperation:
            return "refused"

    def shortcut(name: str, location: str) -> tuple[str, str] | str:
        names_module._RESOLVED.clear()
        try:
            resolved = names_module.resolve(name, location)
        except SuspiciousFileOperation:
            return "refused"
        return str(resolved), resolved.key

    checked = 0
    for length in range(4):
        for parts in itertools.product(pieces, repeat=length):
            name = "".join(parts)
            for location in locations:
                assert shortcut(name, location) == full(name, location), (name, location)
                checked += 1
    assert checked > 15_000
