"""Names: unicode and spaces, implicit folders, cleaning, traversal, control characters, length."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from .fixtures import ContractFixtures, StorageFactory

#: Every operation that takes a name, as a user would call it.
OPERATIONS: dict[str, Callable[[Any, str], object]] = {
    "save": lambda storage, name: storage.save(name, ContentFile(b"escaped")),
    "open": lambda storage, name: storage.open(name),
    "open for writing": lambda storage, name: storage.open(name, "wb"),
    "exists": lambda storage, name: storage.exists(name),
    "delete": lambda storage, name: storage.delete(name),
    "size": lambda storage, name: storage.size(name),
    "url": lambda storage, name: storage.url(name),
    "listdir": lambda storage, name: storage.listdir(name),
    "get_modified_time": lambda storage, name: storage.get_modified_time(name),
}

ESCAPING_NAMES = ["../escaped.txt", "inside/../../escaped.txt", "/etc/passwd"]
CONTROL_NAMES = ["nul\x00byte.txt", "new\nline.txt", "tab\there.txt", "bell\x07.txt", "del\x7f.txt"]


class NameCases(ContractFixtures):
    def test_unicode_names_round_trip(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/ünïcødé 文件 Ωμέγα.txt", ContentFile(b"unicode"))
        assert name == f"{folder}/ünïcødé 文件 Ωμέγα.txt"
        assert self.read(storage, name) == b"unicode"
        assert storage.listdir(folder)[1] == ["ünïcødé 文件 Ωμέγα.txt"]

    def test_names_with_spaces_round_trip(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/my folder/a file  with spaces.txt", ContentFile(b"s"))
        assert self.read(storage, name) == b"s"
        assert storage.listdir(f"{folder}/my folder") == ([], ["a file  with spaces.txt"])

    def test_nested_folders_are_created_implicitly(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/a/b/c/deep.txt", ContentFile(b"deep"))
        assert self.read(storage, name) == b"deep"
        assert storage.listdir(f"{folder}/a") == (["b"], [])
        assert storage.listdir(f"{folder}/a/b/c") == ([], ["deep.txt"])

    def test_dot_segments_and_double_slashes_are_cleaned(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/./x//y.txt", ContentFile(b"clean"))
        assert name == f"{folder}/x/y.txt"
        assert self.read(storage, f"{folder}/x/y.txt") == b"clean"

    def test_backslashes_in_names_become_folder_separators(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}\\win\\path.txt", ContentFile(b"win"))
        assert name == f"{folder}/win/path.txt"
        assert storage.listdir(f"{folder}/win") == ([], ["path.txt"])

    @pytest.mark.parametrize("operation", list(OPERATIONS))
    @pytest.mark.parametrize("bad_name", ESCAPING_NAMES)
    def test_names_escaping_the_location_are_refused(
        self, storage_factory: StorageFactory, folder: str, operation: str, bad_name: str
    ) -> None:
        inner = storage_factory(location=f"{folder}/inner")
        with pytest.raises(SuspiciousFileOperation):
            OPERATIONS[operation](inner, bad_name)
        outer = storage_factory(location=folder)
        assert not outer.exists("escaped.txt")

    @pytest.mark.parametrize("operation", list(OPERATIONS))
    @pytest.mark.parametrize("bad_name", ESCAPING_NAMES)
    def test_names_escaping_the_root_are_refused_with_an_empty_location(
        self, storage_factory: StorageFactory, operation: str, bad_name: str
    ) -> None:
        storage = storage_factory(location="")
        with pytest.raises(SuspiciousFileOperation):
            OPERATIONS[operation](storage, bad_name)

    @pytest.mark.parametrize("operation", ["save", "open", "open for writing", "exists", "url"])
    @pytest.mark.parametrize("bad_name", CONTROL_NAMES)
    def test_nul_and_control_characters_in_names_are_refused(
        self, storage: Any, folder: str, operation: str, bad_name: str
    ) -> None:
        with pytest.raises(SuspiciousFileOperation):
            OPERATIONS[operation](storage, f"{folder}/{bad_name}")
        assert storage.listdir(folder) == ([], [])

    @pytest.mark.parametrize("extension", [".txt", ".tar.gz"])
    def test_names_over_max_length_are_truncated_keeping_the_extension(
        self, storage: Any, folder: str, extension: str
    ) -> None:
        name = storage.save(
            f"{folder}/{'x' * 150}{extension}", ContentFile(b"long"), max_length=100
        )
        assert len(name) <= 100
        assert name.startswith(f"{folder}/xxx")
        assert name.endswith(extension)
        assert not name.endswith(f".tar{extension}")
        assert self.read(storage, name) == b"long"

    def test_names_over_the_backends_limit_are_truncated_keeping_the_extension(
        self, storage: Any, folder: str
    ) -> None:
        limit = getattr(storage, "max_key_length", None)
        if not limit or limit > 4096:
            pytest.skip(f"{type(storage).__name__} declares no practical max_key_length")
        prefix = getattr(storage, "key_prefix", "") or ""
        room = limit - (len(prefix) + 1 if prefix else 0)
        # Folders of 99 characters and a file root of 100 to 200: no part exceeds what
        # file systems allow, while the whole name is 30 characters over the limit.
        target = room + 30
        parts = [folder]
        while len("/".join(parts)) + 1 + 200 + len(".txt") < target:
            parts.append("d" * 99)
        root = "f" * (target - len("/".join(parts)) - 1 - len(".txt"))
        asked = posixpath.join(*parts, root + ".txt")
        name = storage.save(asked, ContentFile(b"at the limit"))
        assert len(name) <= room
        assert name.endswith(".txt")
        assert posixpath.dirname(name) == posixpath.dirname(asked)
        assert self.read(storage, name) == b"at the limit"
