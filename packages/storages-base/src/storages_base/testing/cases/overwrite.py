"""The overwrite policy: ``file_overwrite`` True keeps the name, False never loses a file."""

from __future__ import annotations

import posixpath
import threading

from django.core.files.base import ContentFile

from .fixtures import ContractFixtures, StorageFactory


class OverwriteCases(ContractFixtures):
    def test_overwriting_saves_keep_the_name_and_replace_the_content(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=True)
        first = storage.save(f"{folder}/same.txt", ContentFile(b"first version"))
        second = storage.save(f"{folder}/same.txt", ContentFile(b"second"))
        assert first == second == f"{folder}/same.txt"
        assert self.read(storage, first) == b"second"
        assert storage.listdir(folder) == ([], ["same.txt"])

    def test_exists_reports_a_saved_file_when_overwriting_is_on(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=True)
        name = storage.save(f"{folder}/present.txt", ContentFile(b"x"))
        assert storage.exists(name) is True

    def test_non_overwriting_saves_pick_a_new_name_and_keep_both_contents(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        first = storage.save(f"{folder}/same.txt", ContentFile(b"first"))
        second = storage.save(f"{folder}/same.txt", ContentFile(b"second"))
        assert first == f"{folder}/same.txt"
        assert second != first
        assert self.read(storage, first) == b"first"
        assert self.read(storage, second) == b"second"
        assert sorted(storage.listdir(folder)[1]) == sorted(
            [posixpath.basename(first), posixpath.basename(second)]
        )

    def test_a_new_name_keeps_the_folder_the_stem_and_the_extension(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        storage.save(f"{folder}/docs/report.tar.gz", ContentFile(b"1"))
        second = storage.save(f"{folder}/docs/report.tar.gz", ContentFile(b"2"))
        assert posixpath.dirname(second) == f"{folder}/docs"
        assert posixpath.basename(second).startswith("report")
        assert second.endswith(".tar.gz")
        assert not second.endswith(".tar.tar.gz")

    def test_concurrent_non_overwriting_saves_of_one_name_never_lose_a_file(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        # Atomic where the server has a create-only write (``conditional_create``); else
        # the backend holds the name's lock from its check to its write (``_create_locks``):
        # either way no two threads of one storage take one name.
        storage = storage_factory(file_overwrite=False)
        count = 8
        barrier = threading.Barrier(count)
        saved: dict[int, str] = {}
        errors: list[BaseException] = []

        def save(index: int) -> None:
            try:
                barrier.wait(timeout=30)
                saved[index] = storage.save(
                    f"{folder}/race.txt", ContentFile(f"writer {index}".encode())
                )
            except BaseException as exc:  # re-raised in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(set(saved.values())) == count
        for index, name in saved.items():
            assert self.read(storage, name) == f"writer {index}".encode()
        assert len(storage.listdir(folder)[1]) == count
