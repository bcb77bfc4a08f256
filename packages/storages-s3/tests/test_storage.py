"""S3Storage against both S3 implementations (moto and s3rver), over real HTTP."""

from __future__ import annotations

import gzip
import io
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from storages_base.testing.django import docs_session
from storages_s3 import S3Storage

from .conftest import S3Server


def test_a_saved_file_reads_back_with_its_name_size_and_time(storage: S3Storage) -> None:
    name = storage.save("docs/hello.txt", ContentFile(b"hello world"))

    assert name == "docs/hello.txt"
    assert storage.exists(name)
    assert storage.size(name) == 11
    assert storage.get_modified_time(name).tzinfo == timezone.utc
    with storage.open(name) as f:
        assert f.read() == b"hello world"


def test_a_missing_file_does_not_exist_and_cannot_be_opened(storage: S3Storage) -> None:
    assert not storage.exists("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.open("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("nope.txt")


def test_deleting_a_missing_file_is_quiet(storage: S3Storage) -> None:
    storage.delete("never-there.txt")


def test_a_deleted_file_no_longer_exists(storage: S3Storage) -> None:
    storage.save("gone.txt", ContentFile(b"x"))
    storage.delete("gone.txt")
    assert not storage.exists("gone.txt")


def test_the_seed_session_writes_and_reads_text_through_open(storage: S3Storage) -> None:
    docs_session(storage)


def test_text_mode_translates_newlines_like_python_open(storage: S3Storage) -> None:
    storage.save("lines.txt", ContentFile(b"a\r\nb\rc\n"))
    with storage.open("lines.txt", "r") as f:
        assert f.read() == "a\nb\nc\n"
    with storage.open("lines.txt", "rb") as f:
        assert f.read() == b"a\r\nb\rc\n"


def test_text_content_is_saved_as_utf8(storage: S3Storage) -> None:
    storage.save("unicode.txt", ContentFile("h\u00e9llo \u2603"))
    assert storage.open("unicode.txt").read() == "h\u00e9llo \u2603".encode()


def test_a_non_seekable_stream_saves(storage: S3Storage) -> None:
    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"streamed bytes")

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    storage.save("stream.bin", File(Stream()))
    assert storage.open("stream.bin").read() == b"streamed bytes"


def test_an_empty_file_saves_and_reads_empty(storage: S3Storage) -> None:
    storage.save("empty.txt", ContentFile(b""))
    assert storage.size("empty.txt") == 0
    assert storage.open("empty.txt").read() == b""


def test_seek_reads_from_the_middle_of_a_file(storage: S3Storage) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    storage.save("big.bin", ContentFile(data))
    with storage.open("big.bin") as f:
        assert f.read(10) == data[:10]
        f.seek(700_000)
        assert f.read(16) == data[700_000:700_016]
        f.seek(-5, io.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(len(data) + 10)
        assert f.read() == b""


def test_listdir_returns_folders_and_files_of_one_level(storage: S3Storage) -> None:
    for name in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "other/d.txt"):
        storage.save(name, ContentFile(b"x"))

    assert storage.listdir("") == (["dir", "other"], ["a.txt"])
    assert storage.listdir("dir") == (["sub"], ["b.txt"])
    assert storage.listdir("dir/") == (["sub"], ["b.txt"])
    assert storage.listdir("missing") == ([], [])


def test_listdir_hides_folder_marker_objects(storage: S3Storage, server: S3Server) -> None:
    storage.save("photos/cat.jpg", ContentFile(b"x"))
    server.client().put_object(Bucket=storage.bucket_name, Key="photos/", Body=b"")

    assert storage.listdir("photos") == ([], ["cat.jpg"])
    assert storage.listdir("") == (["photos"], [])


def test_location_prefixes_keys_and_is_hidden_from_names(
    storage: S3Storage, make_storage: object, server: S3Server
) -> None:
    media = make_storage(location="media")  # type: ignore[operator]
    name = media.save("a.txt", ContentFile(b"x"))

    assert name == "a.txt"
    assert storage.exists("media/a.txt")
    assert media.listdir("") == ([], ["a.txt"])


def test_traversal_out_of_the_location_is_refused(make_storage: object) -> None:
    media = make_storage(location="media")  # type: ignore[operator]
    with pytest.raises(SuspiciousFileOperation):
        media.save("../static/evil.js", ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        media.exists("../../x")


def test_content_type_is_guessed_from_the_name(storage: S3Storage, server: S3Server) -> None:
    storage.save("page.html", ContentFile(b"<p>"))
    storage.save("blob", ContentFile(b"?"))
    storage.save("archive.tar.gz", ContentFile(b"not really"))
    head = server.client().head_object

    assert head(Bucket=storage.bucket_name, Key="page.html")["ContentType"] == "text/html"
    assert head(Bucket=storage.bucket_name, Key="blob")["ContentType"] == "application/octet-stream"
    archive = head(Bucket=storage.bucket_name, Key="archive.tar.gz")
    assert archive["ContentType"] == "application/gzip"
    assert "ContentEncoding" not in archive


def test_object_parameters_and_the_per_file_hook_reach_s3(
    make_storage: object, server: S3Server
) -> None:
    class PerFile(S3Storage):
        def get_object_parameters(self, name: str) -> dict[str, object]:
            parameters = super().get_object_parameters(name)
            if name.endswith(".pdf"):
                parameters["ContentDisposition"] = "attachment"
            return parameters

    storage = server.storage(
        make_storage().bucket_name,  # type: ignore[operator]
        cls=PerFile,
        object_parameters={"CacheControl": "max-age=60", "Metadata": {"owner": "me"}},
    )
    storage.save("doc.pdf", ContentFile(b"%PDF"))
    storage.save("doc.txt", ContentFile(b"text"))
    head = server.client().head_object

    pdf = head(Bucket=storage.bucket_name, Key="doc.pdf")
    assert pdf["CacheControl"] == "max-age=60"
    assert pdf["Metadata"] == {"owner": "me"}
    assert pdf["ContentDisposition"] == "attachment"
    assert "ContentDisposition" not in head(Bucket=storage.bucket_name, Key="doc.txt")


def test_content_type_in_object_parameters_wins_over_the_guess(
    make_storage: object, server: S3Server
) -> None:
    storage = make_storage(object_parameters={"ContentType": "text/plain"})  # type: ignore[operator]
    storage.save("x.html", ContentFile(b"<p>"))
    head = server.client().head_object(Bucket=storage.bucket_name, Key="x.html")
    assert head["ContentType"] == "text/plain"


def test_gzip_stores_compressed_and_reads_back_decompressed(
    make_storage: object, server: S3Server
) -> None:
    storage = make_storage(gzip=True)  # type: ignore[operator]
    css = b"body { color: red }\n" * 500
    storage.save("style.css", ContentFile(css))
    storage.save("image.png", ContentFile(b"\x89PNG"))
    raw = server.client().get_object(Bucket=storage.bucket_name, Key="style.css")

    assert raw["ContentEncoding"] == "gzip"
    stored = raw["Body"].read()
    assert len(stored) < len(css)
    assert gzip.decompress(stored) == css
    with storage.open("style.css") as f:
        assert f.read() == css
        assert f.size == len(css)
    assert storage.size("style.css") == len(css)
    assert "ContentEncoding" not in server.client().head_object(
        Bucket=storage.bucket_name, Key="image.png"
    )


def test_gzip_reads_seek_within_the_decompressed_bytes(make_storage: object) -> None:
    storage = make_storage(gzip=True)  # type: ignore[operator]
    css = b"".join(b"/* line %06d */\n" % i for i in range(20_000))
    storage.save("big.css", ContentFile(css))
    with storage.open("big.css") as f:
        f.seek(100_000)
        assert f.read(32) == css[100_000:100_032]


def test_gzip_applies_to_files_written_through_open(make_storage: object, server: S3Server) -> None:
    storage = make_storage(gzip=True)  # type: ignore[operator]
    with storage.open("app.js", "w") as f:
        f.write("console.log(1);\n" * 100)
    raw = server.client().get_object(Bucket=storage.bucket_name, Key="app.js")
    assert raw["ContentEncoding"] == "gzip"
    assert storage.open("app.js", "r").read() == "console.log(1);\n" * 100


def test_saving_the_same_name_without_overwrite_keeps_both_files(make_storage: object) -> None:
    storage = make_storage(file_overwrite=False)  # type: ignore[operator]
    first = storage.save("same.txt", ContentFile(b"one"))
    second = storage.save("same.txt", ContentFile(b"two"))

    assert first == "same.txt"
    assert second.startswith("same_")
    assert second.endswith(".txt")
    assert storage.open(first).read() == b"one"
    assert storage.open(second).read() == b"two"


def test_saving_the_same_name_with_overwrite_replaces_the_file(storage: S3Storage) -> None:
    storage.save("same.txt", ContentFile(b"one"))
    assert storage.save("same.txt", ContentFile(b"two")) == "same.txt"
    assert storage.open("same.txt").read() == b"two"


def test_a_storage_pickles_and_works_after_unpickling(storage: S3Storage) -> None:
    storage.save("p.txt", ContentFile(b"x"))
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.open("p.txt").read() == b"x"
    assert "client" not in pickle.loads(pickle.dumps(storage)).__dict__


def test_one_storage_shared_by_many_threads_works(storage: S3Storage) -> None:
    barrier = threading.Barrier(8)

    def work(i: int) -> bytes:
        barrier.wait()
        name = storage.save(f"t/{i}.txt", ContentFile(b"thread %d" % i))
        assert storage.exists(name)
        data: bytes = storage.open(name).read()
        storage.delete(name)
        return data

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(32)))
    assert results == [b"thread %d" % i for i in range(32)]
    assert storage.listdir("t") == ([], [])
