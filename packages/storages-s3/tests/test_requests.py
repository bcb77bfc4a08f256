"""How many HTTP requests each operation costs, counted by the server (moto's WSGI log)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from storages_s3 import S3Storage

from .conftest import S3Server, first_response_lost


@pytest.fixture
def counted(moto_counted: S3Server) -> S3Storage:
    storage = moto_counted.storage(moto_counted.new_bucket())
    storage.client  # noqa: B018 - building the client costs no request; do it up front
    return storage


def calls(server: S3Server, operation: object) -> list[str]:
    """Run ``operation()`` and return the requests the server saw meanwhile."""
    start = server.mark()
    operation()  # type: ignore[operator]
    return [f"{r.method} {r.path.split('/', 2)[-1]}" for r in server.requests(start)]


def test_saving_a_small_file_is_one_put(counted: S3Storage, moto_counted: S3Server) -> None:
    assert calls(moto_counted, lambda: counted.save("a.txt", ContentFile(b"x" * 1000))) == [
        "PUT a.txt"
    ]


def test_saving_without_overwrite_is_still_one_conditional_put(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket(), file_overwrite=False)
    start = moto_counted.mark()
    storage.save("a.txt", ContentFile(b"x"))
    requests = moto_counted.requests(start)

    assert [r.method for r in requests] == ["PUT"]
    assert requests[0].headers["if-none-match"] == "*"


def test_open_and_read_is_one_get_and_size_after_open_is_free(
    counted: S3Storage, moto_counted: S3Server
) -> None:
    counted.save("a.txt", ContentFile(b"hello"))

    def read() -> None:
        with counted.open("a.txt") as f:
            assert f.read() == b"hello"
            assert f.size == 5

    assert calls(moto_counted, read) == ["GET a.txt"]


@pytest.mark.parametrize("operation", ["exists", "size", "get_modified_time"])
def test_metadata_questions_are_one_head(
    counted: S3Storage, moto_counted: S3Server, operation: str
) -> None:
    counted.save("a.txt", ContentFile(b"hello"))
    assert calls(moto_counted, lambda: getattr(counted, operation)("a.txt")) == ["HEAD a.txt"]


def test_url_makes_no_request(counted: S3Storage, moto_counted: S3Server) -> None:
    assert calls(moto_counted, lambda: [counted.url(f"f{i}.txt") for i in range(100)]) == []


def test_deleting_is_one_request(counted: S3Storage, moto_counted: S3Server) -> None:
    counted.save("a.txt", ContentFile(b"x"))
    assert calls(moto_counted, lambda: counted.delete("a.txt")) == ["DELETE a.txt"]


def test_listdir_of_200_files_is_one_list_request(
    counted: S3Storage, moto_counted: S3Server
) -> None:
    client = moto_counted.client()
    for i in range(200):
        client.put_object(Bucket=counted.bucket_name, Key=f"dir/{i:03}.txt", Body=b"")
    result: list[tuple[list[str], list[str]]] = []

    requests = calls(moto_counted, lambda: result.append(counted.listdir("dir")))

    assert len(requests) == 1
    assert requests[0].startswith("GET ")
    assert len(result[0][1]) == 200


@pytest.mark.slow
def test_listdir_pages_past_1000_keys(counted: S3Storage, moto_counted: S3Server) -> None:
    client = moto_counted.client()
    for i in range(1005):
        client.put_object(Bucket=counted.bucket_name, Key=f"many/{i:04}", Body=b"")
    for i in range(3):
        client.put_object(Bucket=counted.bucket_name, Key=f"many/sub{i}/x", Body=b"")
    result: list[tuple[list[str], list[str]]] = []

    requests = calls(moto_counted, lambda: result.append(counted.listdir("many")))

    folders, files = result[0]
    assert len(requests) == 2
    assert len(files) == 1005
    assert files[0] == "0000"
    assert files[-1] == "1004"
    assert folders == ["sub0", "sub1", "sub2"]


def test_a_seek_reads_with_a_range_request(counted: S3Storage, moto_counted: S3Server) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB
    counted.save("big.bin", ContentFile(data))
    start = moto_counted.mark()

    with counted.open("big.bin") as f:
        f.seek(1_500_000)
        assert f.read(100) == data[1_500_000:1_500_100]

    requests = moto_counted.requests(start)
    assert [r.method for r in requests] == ["GET", "GET"]  # open, then the seek
    assert "range" not in requests[0].headers
    assert requests[1].headers["range"] == "bytes=1500000-"


def test_reading_the_start_of_a_large_file_does_not_download_it_all(
    counted: S3Storage, moto_counted: S3Server
) -> None:
    counted.save("big.bin", ContentFile(b"x" * (6 * 1024 * 1024)))
    with counted.open("big.bin") as f:
        assert f.read(1024) == b"x" * 1024
        stream = f._raw.raw._stream._body  # the HTTP response body under the buffer
        assert stream._amount_read <= 1024 * 1024  # one read buffer, not 6 MiB


def test_a_put_resent_after_its_response_was_lost_is_recognised_not_stored_twice(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket(), file_overwrite=False)
    start = moto_counted.mark()
    with first_response_lost(storage) as attempts:
        name = storage.save("once.txt", ContentFile(b"stored once"))
    requests = moto_counted.requests(start)

    assert name == "once.txt"
    assert attempts == [1, 2]  # botocore sent the PUT again, and S3 answered 412
    assert [f"{r.method} {r.path.split('/', 2)[-1]}" for r in requests] == [
        "PUT once.txt",
        "PUT once.txt",
        "HEAD once.txt",  # its ETag is the MD5 we sent: our own object
    ]
    assert storage.listdir("") == ([], ["once.txt"])


def test_a_clash_at_the_first_attempt_is_somebody_elses_file(moto_counted: S3Server) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket(), file_overwrite=False)
    storage.save("taken.txt", ContentFile(b"same bytes"))
    start = moto_counted.mark()
    name = storage.save("taken.txt", ContentFile(b"same bytes"))

    assert name != "taken.txt"  # identical bytes, but no retry: not ours
    assert [r.method for r in moto_counted.requests(start)] == ["PUT", "PUT"]
