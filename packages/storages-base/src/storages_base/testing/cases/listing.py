"""listdir, and the ``location`` that scopes every name of a storage."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from .fixtures import ContractFixtures, StorageFactory


class ListingCases(ContractFixtures):
    def test_listdir_returns_folders_and_files_relative_to_the_folder_asked(
        self, storage: Any, folder: str
    ) -> None:
        for name in ("one.txt", "two.txt", "sub/three.txt", "sub/deeper/four.txt", "other/5"):
            storage.save(f"{folder}/{name}", ContentFile(b"x"))
        assert storage.listdir(folder) == (["other", "sub"], ["one.txt", "two.txt"])
        assert storage.listdir(f"{folder}/sub") == (["deeper"], ["three.txt"])

    def test_listdir_with_a_trailing_slash_gives_the_same_result(
        self, storage: Any, folder: str
    ) -> None:
        storage.save(f"{folder}/sub/file.txt", ContentFile(b"x"))
        storage.save(f"{folder}/top.txt", ContentFile(b"x"))
        assert storage.listdir(f"{folder}/") == storage.listdir(folder) == (["sub"], ["top.txt"])

    def test_listdir_of_a_missing_folder_is_empty(self, storage: Any, folder: str) -> None:
        assert storage.listdir(f"{folder}/nowhere") == ([], [])

    def test_listdir_does_not_show_deleted_files(self, storage: Any, folder: str) -> None:
        storage.save(f"{folder}/kept.txt", ContentFile(b"x"))
        storage.save(f"{folder}/gone.txt", ContentFile(b"x"))
        storage.delete(f"{folder}/gone.txt")
        assert storage.listdir(folder)[1] == ["kept.txt"]

    def test_listdir_does_not_mistake_a_shared_prefix_for_a_folder(
        self, storage: Any, folder: str
    ) -> None:
        storage.save(f"{folder}/ab/inside.txt", ContentFile(b"x"))
        storage.save(f"{folder}/abc.txt", ContentFile(b"x"))
        storage.save(f"{folder}/a/inside.txt", ContentFile(b"x"))
        assert storage.listdir(f"{folder}/a") == ([], ["inside.txt"])

    def test_listdir_of_the_location_root_lists_its_top_level(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        scoped = storage_factory(location=folder)
        scoped.save("top.txt", ContentFile(b"x"))
        scoped.save("sub/inner.txt", ContentFile(b"x"))
        assert scoped.listdir("") == (["sub"], ["top.txt"])

    def test_storages_with_different_locations_do_not_see_each_others_files(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        first = storage_factory(location=f"{folder}/first")
        second = storage_factory(location=f"{folder}/second")
        first.save("shared-name.txt", ContentFile(b"first"))
        first.save("only-first/x.txt", ContentFile(b"x"))
        second.save("shared-name.txt", ContentFile(b"second"))
        assert first.listdir("") == (["only-first"], ["shared-name.txt"])
        assert second.listdir("") == ([], ["shared-name.txt"])
        assert self.read(first, "shared-name.txt") == b"first"
        assert self.read(second, "shared-name.txt") == b"second"
        assert second.exists("only-first/x.txt") is False

    def test_a_location_is_applied_to_every_name_it_saves(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        scoped = storage_factory(location=f"{folder}/media")
        name = scoped.save("photo.txt", ContentFile(b"located"))
        assert name == "photo.txt"
        unscoped = storage_factory(location="")
        assert self.read(unscoped, f"{folder}/media/photo.txt") == b"located"
        assert unscoped.listdir(folder) == (["media"], [])
