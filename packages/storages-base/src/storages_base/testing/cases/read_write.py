"""save / open / read / exists / delete / size: the core of the Storage API."""

from __future__ import annotations

import io
import tempfile
import threading
from typing import IO, Any, cast

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import SimpleUploadedFile

from .fixtures import ContractFixtures, StorageFactory


class _OneWay(io.RawIOBase):
    """A stream that cannot seek, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class ReadWriteCases(ContractFixtures):
    def test_saved_bytes_read_back_identical(self, storage: Any, folder: str) -> None:
        data = bytes(range(256)) * 4
        name = storage.save(f"{folder}/bytes.bin", ContentFile(data))
        assert self.read(storage, name) == data

    def test_save_returns_the_name_asked_for_when_it_is_free(
        self, storage: Any, folder: str
    ) -> None:
        assert storage.save(f"{folder}/free.txt", ContentFile(b"x")) == f"{folder}/free.txt"

    def test_saved_text_is_stored_as_utf8_bytes(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/text.txt", ContentFile("héllo wörld ✓"))
        assert self.read(storage, name) == "héllo wörld ✓".encode()
        assert storage.size(name) == len("héllo wörld ✓".encode())

    def test_a_plain_file_object_can_be_saved_without_wrapping(
        self, storage: Any, folder: str
    ) -> None:
        name = storage.save(f"{folder}/plain.bin", io.BytesIO(b"plain stream"))
        assert self.read(storage, name) == b"plain stream"

    def test_a_file_from_disk_is_saved_with_its_bytes(self, storage: Any, folder: str) -> None:
        with tempfile.NamedTemporaryFile() as disk:
            disk.write(b"from disk\n" * 100)
            disk.flush()
            with open(disk.name, "rb") as source:
                name = storage.save(f"{folder}/disk.txt", File(source))
        assert self.read(storage, name) == b"from disk\n" * 100

    def test_a_stream_that_cannot_seek_is_saved_completely(self, storage: Any, folder: str) -> None:
        data = self.payload(100_000)
        name = storage.save(f"{folder}/oneway.bin", File(cast(IO[bytes], _OneWay(data))))
        assert self.read(storage, name) == data

    def test_saving_rewinds_content_that_was_already_read(self, storage: Any, folder: str) -> None:
        content = ContentFile(b"read before saving")
        content.read()
        name = storage.save(f"{folder}/rewound.txt", content)
        assert self.read(storage, name) == b"read before saving"

    def test_an_uploaded_file_is_saved_with_its_bytes(self, storage: Any, folder: str) -> None:
        upload = SimpleUploadedFile("photo.png", b"\x89PNG fake", content_type="image/png")
        name = storage.save(f"{folder}/photo.png", upload)
        assert self.read(storage, name) == b"\x89PNG fake"

    def test_an_empty_file_is_stored_with_zero_bytes(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/empty.txt", ContentFile(b""))
        assert storage.exists(name)
        assert storage.size(name) == 0
        assert self.read(storage, name) == b""
        with storage.open(name) as file:
            assert list(file.chunks()) == []

    @pytest.mark.slow
    def test_a_file_larger_than_the_part_size_round_trips(self, storage: Any, folder: str) -> None:
        data = self.payload(self.large_file_size)
        name = storage.save(f"{folder}/large.bin", ContentFile(data))
        assert storage.size(name) == len(data)
        assert self.read(storage, name) == data

    def test_size_is_the_number_of_bytes_stored(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/sized.txt", ContentFile(b"12345678901"))
        assert storage.size(name) == 11

    def test_a_file_opened_for_reading_knows_its_size(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/opened-size.bin", ContentFile(b"x" * 4321))
        with storage.open(name) as file:
            assert file.size == 4321
            assert len(file.read()) == 4321

    def test_exists_is_true_for_a_saved_file_and_false_for_another(
        self, storage: Any, folder: str
    ) -> None:
        name = storage.save(f"{folder}/here.txt", ContentFile(b"x"))
        assert storage.exists(name) is True
        assert storage.exists(f"{folder}/not-here.txt") is False

    def test_exists_is_false_after_delete(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/doomed.txt", ContentFile(b"x"))
        storage.delete(name)
        assert storage.exists(name) is False
        with pytest.raises(FileNotFoundError):
            storage.open(name)

    def test_deleting_a_missing_file_is_quiet(self, storage: Any, folder: str) -> None:
        storage.delete(f"{folder}/never-saved.txt")
        assert storage.exists(f"{folder}/never-saved.txt") is False

    def test_deleting_a_file_leaves_names_that_share_its_prefix(
        self, storage: Any, folder: str
    ) -> None:
        storage.save(f"{folder}/a.txt", ContentFile(b"a"))
        storage.save(f"{folder}/a.txt.bak", ContentFile(b"backup"))
        storage.save(f"{folder}/a.txt-dir/inner.txt", ContentFile(b"inner"))
        storage.delete(f"{folder}/a.txt")
        assert self.read(storage, f"{folder}/a.txt.bak") == b"backup"
        assert self.read(storage, f"{folder}/a.txt-dir/inner.txt") == b"inner"

    def test_opening_a_missing_file_raises_file_not_found_error(
        self, storage: Any, folder: str
    ) -> None:
        with pytest.raises(FileNotFoundError):
            storage.open(f"{folder}/missing.txt")

    def test_size_of_a_missing_file_raises_file_not_found_error(
        self, storage: Any, folder: str
    ) -> None:
        with pytest.raises(FileNotFoundError):
            storage.size(f"{folder}/missing.txt")

    def test_modified_time_of_a_missing_file_raises_file_not_found_error(
        self, storage: Any, folder: str
    ) -> None:
        with pytest.raises(FileNotFoundError):
            storage.get_modified_time(f"{folder}/missing.txt")

    def test_threads_sharing_one_storage_each_save_and_read_their_own_file(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory()
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def work(index: int) -> None:
            try:
                barrier.wait(timeout=30)
                data = f"thread {index} ".encode() * 1000
                name = storage.save(f"{folder}/thread-{index}.txt", ContentFile(data))
                assert self.read(storage, name) == data
                assert storage.size(name) == len(data)
            except BaseException as exc:  # collected, re-raised in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(storage.listdir(folder)[1]) == 8
