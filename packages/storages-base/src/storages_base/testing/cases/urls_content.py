"""url(), HTTP access where the backend serves it, content types and gzip."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from .fixtures import ContractFixtures, StorageFactory

CSS = b"body { color: #123456; margin: 0 auto; }\n" * 200


class UrlAndContentCases(ContractFixtures):
    def test_url_percent_encodes_spaces_and_non_ascii_characters(
        self, storage: Any, folder: str
    ) -> None:
        name = storage.save(f"{folder}/my photo ãlöhâ.jpg", ContentFile(b"jpg"))
        url = storage.url(name)
        assert f"{folder}/my%20photo%20%C3%A3l%C3%B6h%C3%A2.jpg" in url
        assert " " not in url

    def test_url_of_a_file_not_saved_yet_is_built_without_error(
        self, storage: Any, folder: str
    ) -> None:
        url = storage.url(f"{folder}/later/upload.txt")
        assert f"{folder}/later/upload.txt" in url

    def test_url_keeps_the_folder_slashes(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/a/b/c.txt", ContentFile(b"x"))
        assert f"{folder}/a/b/c.txt" in storage.url(name)

    def test_url_fetched_over_http_gives_the_file(self, storage: Any, folder: str) -> None:
        self.require(storage, "http_urls", "its URLs cannot be fetched in tests")
        data = self.payload(5000)
        name = storage.save(f"{folder}/fetched ü.bin", ContentFile(data))
        assert self.fetch_url(storage.url(name)) == data

    def test_a_signed_url_fetched_over_http_gives_the_file(self, storage: Any, folder: str) -> None:
        self.require(storage, "signed_urls", "it has no signed URLs")
        self.require(storage, "http_urls", "its URLs cannot be fetched in tests")
        name = storage.save(f"{folder}/private.txt", ContentFile(b"signed access"))
        assert self.fetch_url(storage.url(name, expire=300)) == b"signed access"

    @pytest.mark.parametrize(
        ("filename", "expected"),
        [
            ("photo.jpg", "image/jpeg"),
            ("style.css", "text/css"),
            ("data.json", "application/json"),
            ("archive.zzzunknown", "application/octet-stream"),
        ],
    )
    def test_the_content_type_is_guessed_from_the_name(
        self, storage: Any, folder: str, filename: str, expected: str
    ) -> None:
        name = storage.save(f"{folder}/{filename}", ContentFile(b"typed"))
        assert self.content_stat(storage, name).content_type == expected

    def test_an_uploaded_files_content_type_wins_over_the_guess(
        self, storage: Any, folder: str
    ) -> None:
        upload = SimpleUploadedFile("x.bin", b"png really", content_type="image/png")
        name = storage.save(f"{folder}/upload.bin", upload)
        assert self.content_stat(storage, name).content_type == "image/png"

    def test_a_gz_upload_is_stored_as_application_gzip_without_content_encoding(
        self, storage: Any, folder: str
    ) -> None:
        packed = gzip.compress(b"an archive", mtime=0)
        name = storage.save(f"{folder}/backup.tar.gz", ContentFile(packed))
        stat = self.content_stat(storage, name)
        assert stat.content_type == "application/gzip"
        assert stat.content_encoding is None
        assert self.read(storage, name) == packed

    def test_with_gzip_on_a_css_file_reads_back_as_the_original(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = self._gzip_storage(storage_factory)
        name = storage.save(f"{folder}/style.css", ContentFile(CSS))
        assert self.read(storage, name) == CSS
        with storage.open(name, "r") as text:
            assert text.read() == CSS.decode()

    def test_with_gzip_on_a_css_file_is_stored_compressed(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = self._gzip_storage(storage_factory)
        name = storage.save(f"{folder}/style.css", ContentFile(CSS))
        stat = self.content_stat(storage, name)
        assert stat.content_encoding == "gzip"
        assert stat.content_type == "text/css"
        stored, _stat = storage._read(storage._key(name), 0)
        with stored:
            assert len(stored.read()) < len(CSS)
        # size() is what open().read() gives back, not the stored (compressed) length.
        assert storage.size(name) == len(CSS)
        with storage.open(name) as f:
            assert len(f.read()) == f.size == len(CSS)

    def test_with_gzip_on_other_types_are_stored_as_they_are(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = self._gzip_storage(storage_factory)
        data = self.payload(3000)
        name = storage.save(f"{folder}/photo.jpg", ContentFile(data))
        assert storage.size(name) == len(data)
        assert self.read(storage, name) == data
        assert self.content_stat(storage, name).content_encoding is None

    @pytest.mark.parametrize("gzip_on", [False, True])
    @pytest.mark.parametrize("filename", ["style.css", "photo.jpg"])
    def test_open_for_writing_stores_the_type_and_encoding_save_does(
        self, storage_factory: StorageFactory, folder: str, filename: str, gzip_on: bool
    ) -> None:
        # One write policy: open(name, "wb") gets the request save() builds.
        storage = self._gzip_storage(storage_factory) if gzip_on else storage_factory()
        saved = storage.save(f"{folder}/saved/{filename}", ContentFile(CSS))
        opened = f"{folder}/opened/{filename}"
        with storage.open(opened, "wb") as f:
            f.write(CSS)
        by_save, by_open = self.content_stat(storage, saved), self.content_stat(storage, opened)
        assert by_open.content_type == by_save.content_type
        assert by_open.content_encoding == by_save.content_encoding
        assert storage.size(opened) == storage.size(saved) == len(CSS)
        assert self.read(storage, opened) == CSS

    def _gzip_storage(self, storage_factory: StorageFactory) -> Any:
        storage = storage_factory()
        options = getattr(storage, "options", ())
        if "gzip" not in options:
            pytest.skip(f"{type(storage).__name__} has no gzip option")
        return storage_factory(gzip=True)
