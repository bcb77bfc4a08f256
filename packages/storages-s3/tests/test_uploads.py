"""Large uploads: multipart streaming, bounded memory, aborts, and race-free creates."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import shutil
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile, File

from storages_s3 import S3Storage, files

from .conftest import S3Server, own_moto_process

MiB = 1024 * 1024


class Generated(io.RawIOBase):
    """``size`` deterministic bytes made as they are read (never held whole), optionally
    failing after ``fail_after`` bytes, as a dropped client upload would."""

    def __init__(self, size: int, fail_after: int | None = None) -> None:
        self.size, self.pos, self.fail_after = size, 0, fail_after
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError("client went away")
        count = min(len(buffer), self.size - self.pos, 256 * 1024)
        chunk = (b"%015d\n" % (self.pos // 16)) * (count // 16 + 1)
        chunk = chunk[:count]
        buffer[:count] = chunk
        self.digest.update(chunk)
        self.pos += count
        return count


def sha256_of(storage: S3Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name) as f:
        for chunk in f.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def incomplete_uploads(server: S3Server, bucket: str) -> list[object]:
    return list(server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_saving_a_large_stream_uploads_parts_and_reads_back_intact(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    source = Generated(12 * MiB)
    start = moto_counted.mark()

    storage.save("big.bin", File(source))

    requests = moto_counted.requests(start)
    assert (requests[0].method, requests[0].query) == ("POST", "uploads")
    assert [r.method for r in requests if "partNumber" in r.query] == ["PUT"] * 3  # 5+5+2 MiB
    assert requests[-1].method == "POST"
    assert "uploadId" in requests[-1].query
    assert len(requests) == 5
    assert storage.size("big.bin") == 12 * MiB
    assert sha256_of(storage, "big.bin") == source.digest.hexdigest()


def test_saving_a_file_on_disk_sends_8_mib_parts_read_where_they_lie(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    source = Generated(20 * MiB)
    with tempfile.TemporaryFile() as upload:  # what Django gives for a large upload
        shutil.copyfileobj(source, upload)
        upload.seek(0)
        start = moto_counted.mark()
        storage.save("video.bin", File(upload))

    requests = moto_counted.requests(start)
    parts = sorted(
        int(r.query.split("partNumber=")[1].split("&")[0])
        for r in requests
        if "partNumber" in r.query
    )
    assert (requests[0].method, requests[0].query) == ("POST", "uploads")
    assert parts == [1, 2, 3]  # 8 + 8 + 4 MiB, as s3transfer would send them
    assert len(requests) == 5
    assert sha256_of(storage, "video.bin") == source.digest.hexdigest()


def test_part_sizes_of_a_stream_of_unknown_size_double_every_thousand_parts() -> None:
    sizes = [files.part_size_for(5 * MiB, n) for n in (1, 1000, 1001, 2001, 9001, 10_000)]
    assert sizes == [5 * MiB, 5 * MiB, 10 * MiB, 20 * MiB, 2560 * MiB, 2560 * MiB]
    total = sum(files.part_size_for(5 * MiB, n) for n in range(1, files.MAX_PARTS + 1))
    assert total > 4.8 * 1024**4  # about S3's largest object, not 48 GiB


@pytest.mark.parametrize("how", ["save", "open"])
def test_a_long_stream_of_unknown_size_grows_its_parts_and_arrives_intact(
    moto_counted: S3Server, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(files, "PARTS_PER_SIZE", 2)  # as after 1,000 parts, sooner
    storage = moto_counted.storage(moto_counted.new_bucket(), use_threads=False)
    source = Generated(40 * MiB)
    start = moto_counted.mark()
    if how == "save":
        storage.save("long.bin", File(io.BufferedReader(source)))  # no size to read
    else:
        with storage.open("long.bin", "wb") as f:
            while chunk := source.read(3 * MiB):
                f.write(chunk)

    parts = [r for r in moto_counted.requests(start) if "partNumber" in r.query]
    assert len(parts) == 5  # 5 + 5 + 10 + 10 + 10 MiB, not eight parts of 5 MiB
    assert storage.size("long.bin") == 40 * MiB
    assert sha256_of(storage, "long.bin") == source.digest.hexdigest()


def test_many_writes_to_an_open_file_stream_as_a_multipart_upload(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket(), use_threads=False)
    digest = hashlib.sha256()
    start = moto_counted.mark()

    with storage.open("log.txt", "wb") as f:
        for i in range(200):
            line = (b"line %06d " % i) * 6000  # ~66 KB a write, 13 MB in all
            digest.update(line)
            f.write(line)
        assert f.size == 200 * len(line)
        parts_sent_before_close = sum(
            1 for r in moto_counted.requests(start) if "partNumber" in r.query
        )

    parts = [r for r in moto_counted.requests(start) if "partNumber" in r.query]
    assert parts_sent_before_close >= 2  # streamed while writing, not at close
    assert len(parts) == 3
    assert sha256_of(storage, "log.txt") == digest.hexdigest()


def test_a_failed_save_aborts_its_multipart_upload(moto: S3Server, moto_bucket: str) -> None:
    storage = moto.storage(moto_bucket)
    with pytest.raises(OSError, match="client went away"):
        storage.save("broken.bin", File(Generated(20 * MiB, fail_after=12 * MiB)))

    assert not storage.exists("broken.bin")
    assert incomplete_uploads(moto, moto_bucket) == []


def test_a_write_block_that_raises_stores_nothing_and_aborts(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket)
    storage.save("keep.bin", ContentFile(b"old"))

    def write_then_fail() -> None:
        with storage.open("keep.bin", "wb") as f:
            f.write(b"x" * (11 * MiB))
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert storage.open("keep.bin").read() == b"old"
    assert incomplete_uploads(moto, moto_bucket) == []


def test_a_writer_closed_without_commit_aborts(moto: S3Server, moto_bucket: str) -> None:
    storage = moto.storage(moto_bucket)
    writer = storage._open_writer(storage._write_request("half.bin", "half.bin", None))
    writer.write(b"y" * (12 * MiB))
    writer.close()

    assert not storage.exists("half.bin")
    assert incomplete_uploads(moto, moto_bucket) == []


def test_concurrent_saves_of_one_name_never_replace_each_other(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, file_overwrite=False)
    barrier = threading.Barrier(8)

    def save(i: int) -> str:
        barrier.wait()
        return storage.save("race.txt", ContentFile(b"writer %d" % i))

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(save, range(8)))

    assert len(set(names)) == 8
    assert "race.txt" in names
    for i, name in enumerate(names):
        assert storage.open(name).read() == b"writer %d" % i


@pytest.mark.slow
def test_a_large_save_that_finds_its_name_taken_completes_under_a_new_name(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, file_overwrite=False)
    storage.save("video.bin", ContentFile(b"first"))
    source = Generated(11 * MiB)
    with tempfile.TemporaryFile() as upload:  # rewindable, as Django's uploads are
        shutil.copyfileobj(source, upload)
        name = storage.save("video.bin", File(upload))

    assert name != "video.bin"
    assert storage.open("video.bin").read() == b"first"
    assert sha256_of(storage, name) == source.digest.hexdigest()
    assert incomplete_uploads(moto, moto_bucket) == []


def test_a_stream_that_cannot_rewind_is_refused_when_its_name_is_taken(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, file_overwrite=False)
    storage.save("taken.bin", ContentFile(b"first"))
    with pytest.raises(FileExistsError):
        storage._save("taken.bin", File(Generated(1000)))
    assert storage.open("taken.bin").read() == b"first"


def test_opening_an_existing_name_in_x_mode_fails(storage: S3Storage) -> None:
    storage.save("taken.txt", ContentFile(b"x"))
    with pytest.raises(FileExistsError):
        storage.open("taken.txt", "xb")


# -- memory ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_process() -> Iterator[S3Server]:
    """moto in its own process, so its copy of the upload is not counted as ours."""
    with own_moto_process() as endpoint:
        yield S3Server(endpoint, "key-" + secrets.token_hex(4), "secret-" + secrets.token_hex(8))


def peak_memory(operation: object) -> int:
    tracemalloc.start()
    try:
        operation()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("use_threads", [False, True])
def test_saving_64_mib_holds_a_few_parts_in_memory_not_the_file(
    moto_process: S3Server, use_threads: bool
) -> None:
    storage = moto_process.storage(moto_process.new_bucket(), use_threads=use_threads)
    storage.client  # noqa: B018 - not part of the upload's memory

    peak = peak_memory(lambda: storage.save("big.bin", File(Generated(64 * MiB))))

    # The part being read (Django's File.read() makes a transient copy), the part being
    # sent, and with threads up to 4 parts in flight: bounded by parts, not by the file.
    parts_in_memory = 3 + (4 if use_threads else 1)
    print(f"peak Python memory saving 64 MiB (threads={use_threads}): {peak / MiB:.1f} MiB")
    assert peak < parts_in_memory * 5 * MiB
    assert storage.size("big.bin") == 64 * MiB


@pytest.mark.slow
def test_saving_64_mib_from_disk_holds_no_part_in_memory(moto_process: S3Server) -> None:
    storage = moto_process.storage(moto_process.new_bucket())
    storage.client  # noqa: B018
    source = Generated(64 * MiB)
    with tempfile.TemporaryFile() as upload:
        shutil.copyfileobj(source, upload)
        upload.seek(0)
        peak = peak_memory(lambda: storage.save("big.bin", File(upload)))

    # 10 parts of 8 MiB in flight, each read from the file as it is sent: what is held
    # is the SDK's read-ahead per request, far less than one part per thread.
    print(f"peak Python memory saving 64 MiB from disk: {peak / MiB:.1f} MiB")
    assert peak < 2 * 8 * MiB
    assert sha256_of(storage, "big.bin") == source.digest.hexdigest()


@pytest.mark.slow
def test_writing_64_mib_through_open_holds_about_one_part_in_memory(
    moto_process: S3Server,
) -> None:
    storage = moto_process.storage(moto_process.new_bucket(), use_threads=False)
    storage.client  # noqa: B018
    chunk = b"z" * (256 * 1024)

    def write() -> None:
        with storage.open("big.bin", "wb") as f:
            for _ in range(256):
                f.write(chunk)

    peak = peak_memory(write)
    print(f"peak Python memory writing 64 MiB through open('wb'): {peak / MiB:.1f} MiB")
    assert peak < 3 * 5 * MiB
    assert storage.size("big.bin") == 64 * MiB


def test_customer_encryption_keys_go_with_every_write_and_read(moto_counted: S3Server) -> None:
    key = os.urandom(32)  # SSE-C: S3 needs the key again on every request for the object
    storage = moto_counted.storage(
        moto_counted.new_bucket(),
        object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key},
        use_threads=False,
    )
    start = moto_counted.mark()

    storage.save("small.txt", ContentFile(b"secret"))
    storage.save("big.bin", ContentFile(b"b" * (11 * MiB)))
    with tempfile.TemporaryFile() as upload:  # a file on disk: parts read by offset
        upload.write(b"d" * (17 * MiB))
        upload.seek(0)
        storage.save("disk.bin", File(upload))
    assert storage.exists("small.txt")
    assert storage.open("small.txt").read() == b"secret"
    assert storage.size("big.bin") == 11 * MiB
    assert storage.size("disk.bin") == 17 * MiB

    header = "x-amz-server-side-encryption-customer-algorithm"
    without = [str(r) for r in moto_counted.requests(start) if header not in r.headers]
    assert without == []


@pytest.mark.slow
def test_a_gzipped_file_larger_than_a_part_reports_its_decompressed_size(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, gzip=True)
    data = os.urandom(6 * MiB)  # barely compresses: the gzip stream needs two parts
    storage.save("noise.css", ContentFile(data))

    head = moto.client().head_object(Bucket=moto_bucket, Key="noise.css")
    assert head["ContentEncoding"] == "gzip"
    assert head["ContentLength"] > 5 * MiB  # stored as a multipart upload
    assert storage.size("noise.css") == len(data)
    with storage.open("noise.css") as f:
        assert f.read() == data


# -- one write policy for save() and open("wb") ----------------------------------------


class PerFileParameters(S3Storage):
    def get_object_parameters(self, name: str) -> dict[str, object]:
        return {**super().get_object_parameters(name), "Metadata": {"base": name.split("/")[-1]}}


@pytest.mark.parametrize("size", [1000, 6 * MiB])  # one PutObject; a multipart upload
@pytest.mark.parametrize("filename", ["style.css", "notes.txt", "blob.bin"])
def test_open_for_writing_stores_what_save_stores(
    moto: S3Server, moto_bucket: str, filename: str, size: int
) -> None:
    storage = moto.storage(
        moto_bucket,
        cls=PerFileParameters,
        gzip=True,
        default_acl="public-read",
        object_parameters={"CacheControl": "max-age=60", "ContentDisposition": "inline"},
    )
    data = (b"p { margin: 0 }\n" * (size // 16 + 1))[:size]
    storage.save(f"saved/{filename}", ContentFile(data))
    with storage.open(f"opened/{filename}", "wb") as f:
        f.write(data)

    client = moto.client()
    saved, opened = (
        client.head_object(Bucket=moto_bucket, Key=f"{how}/{filename}")
        for how in ("saved", "opened")
    )
    fields = ("ContentType", "ContentEncoding", "CacheControl", "ContentDisposition", "Metadata")
    assert {f: saved.get(f) for f in fields} == {f: opened.get(f) for f in fields}
    assert saved["CacheControl"] == "max-age=60"
    assert saved["Metadata"]["base"] == filename
    assert (saved.get("ContentEncoding") == "gzip") == filename.endswith(".css")
    grants = [
        client.get_object_acl(Bucket=moto_bucket, Key=f"{how}/{filename}")["Grants"]
        for how in ("saved", "opened")
    ]
    assert grants[0] == grants[1]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants[0])
    assert storage.size(f"opened/{filename}") == storage.size(f"saved/{filename}") == size
    assert storage.open(f"opened/{filename}").read() == data
