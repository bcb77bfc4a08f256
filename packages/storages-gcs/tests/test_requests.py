"""How many HTTP requests each operation costs, counted by the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


@pytest.fixture
def counted(storage: GoogleCloudStorage) -> GoogleCloudStorage:
    storage.client  # noqa: B018 - building the client costs no request; do it up front
    return storage


def calls(server: GCSEmulator, operation: Callable[[], Any]) -> list[str]:
    """Run ``operation()`` and return the requests the server saw meanwhile."""
    start = server.mark()
    operation()
    return [f"{r.method} {r.path}" for r in server.requests(start)]


def test_saving_a_small_file_is_one_upload(counted: GoogleCloudStorage, gcs: GCSEmulator) -> None:
    seen = calls(gcs, lambda: counted.save("a.txt", ContentFile(b"x" * 1000)))
    assert seen == [f"POST /upload/storage/v1/b/{counted.bucket_name}/o"]


def test_saving_without_overwrite_is_one_conditional_upload(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    storage = make_storage(file_overwrite=False)
    storage.client  # noqa: B018
    start = gcs.mark()
    assert storage.save("a.txt", ContentFile(b"x")) == "a.txt"
    second = storage.save("a.txt", ContentFile(b"y"))
    requests = gcs.requests(start)

    assert second != "a.txt"
    # a taken name costs the refused upload and the check of whose file it is
    assert [r.method for r in requests] == ["POST", "POST", "GET", "POST"]
    assert all("ifGenerationMatch=0" in r.query for r in requests if r.method == "POST")


def test_open_and_read_is_one_get_and_size_and_time_after_open_are_free(
    counted: GoogleCloudStorage, gcs: GCSEmulator
) -> None:
    counted.save("a.txt", ContentFile(b"hello"))

    def read() -> None:
        with counted.open("a.txt") as f:
            assert f.read() == b"hello"
            assert f.size == 5
            counted.get_modified_time("a.txt")

    assert calls(gcs, read) == [f"GET /download/storage/v1/b/{counted.bucket_name}/o/a.txt"]


@pytest.mark.parametrize("operation", ["exists", "size", "get_modified_time", "get_created_time"])
def test_metadata_questions_are_one_get(
    counted: GoogleCloudStorage, gcs: GCSEmulator, operation: str
) -> None:
    counted.save("a.txt", ContentFile(b"hello"))
    seen = calls(gcs, lambda: getattr(counted, operation)("a.txt"))
    assert seen == [f"GET /storage/v1/b/{counted.bucket_name}/o/a.txt"]


def test_url_makes_no_request(counted: GoogleCloudStorage, gcs: GCSEmulator) -> None:
    assert calls(gcs, lambda: [counted.url(f"f{i}.txt") for i in range(100)]) == []


def test_deleting_is_one_request(counted: GoogleCloudStorage, gcs: GCSEmulator) -> None:
    counted.save("a.txt", ContentFile(b"x"))
    assert calls(gcs, lambda: counted.delete("a.txt")) == [
        f"DELETE /storage/v1/b/{counted.bucket_name}/o/a.txt"
    ]


def test_listdir_is_one_request_per_page_and_reads_past_the_first(
    counted: GoogleCloudStorage, gcs: GCSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(12):
        counted.save(f"dir/{i:02}.txt", ContentFile(b""))
    counted.save("dir/sub/x.txt", ContentFile(b""))
    counted.bucket.blob("dir/").upload_from_string(b"")  # a console-made "folder"
    assert calls(gcs, lambda: counted.listdir("dir")) == [
        f"GET /storage/v1/b/{counted.bucket_name}/o"
    ]
    monkeypatch.setattr(gcs, "page_size", 5)  # GCS pages at 1,000; the extension at 5

    result: list[Any] = []
    seen = calls(gcs, lambda: result.append(counted.listdir("dir")))

    assert len(seen) == 3  # 14 entries (12 files, one prefix, the placeholder) in pages of 5
    assert result == [(["sub"], [f"{i:02}.txt" for i in range(12)])]


def test_a_listing_asks_for_the_names_only_and_gets_them(
    counted: GoogleCloudStorage, gcs: GCSEmulator
) -> None:
    """``fields`` (GCS's partial response) cuts each listed object from its whole resource
    (about 700 bytes) to its name: the bytes received grow with the names, not with
    everything GCS keeps per object."""
    for i in range(50):
        counted.save(f"dir/{i:02}.txt", ContentFile(b"x"))
    counted.save("dir/sub/x.txt", ContentFile(b""))
    session = counted.client._http
    received: list[int] = []
    real = session.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        response = real(*args, **kwargs)
        received.append(len(response.content))
        return response

    session.request = counting
    try:
        start = gcs.mark()
        assert counted.listdir("dir") == (["sub"], [f"{i:02}.txt" for i in range(50)])
    finally:
        del session.request
    (listing,) = gcs.requests(start)
    assert "fields=items%28name%29%2Cprefixes%2CnextPageToken" in listing.query
    assert received[0] < 50 * 40  # {"name": "dir/07.txt"}, per file


ALL_METADATA = {"metadata": {"color": "red", "shape": "round"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("name,size", {"name": "a/b.txt", "size": "5"}),
        ("metadata/color", {"metadata": {"color": "red"}}),
        ("metadata(*)", ALL_METADATA),
        ("name,metadata,metadata/color", {"name": "a/b.txt", **ALL_METADATA}),
    ],
)
def test_the_emulator_answers_with_the_fields_asked_for(
    counted: GoogleCloudStorage, gcs: GCSEmulator, fields: str, expected: dict[str, Any]
) -> None:
    import json
    import urllib.parse
    import urllib.request

    blob = counted.bucket.blob("a/b.txt")
    blob.metadata = {"color": "red", "shape": "round"}
    blob.upload_from_string(b"hello")
    query = urllib.parse.urlencode({"fields": fields})
    url = f"{gcs.url}/storage/v1/b/{counted.bucket_name}/o/a%2Fb.txt?{query}"
    with urllib.request.urlopen(url) as answer:
        assert json.load(answer) == expected


def test_a_large_save_is_a_resumable_session_of_aligned_chunks(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    storage = make_storage(blob_chunk_size=256 * 1024)
    storage.client  # noqa: B018
    data = bytes(range(256)) * (3 * 1024 + 10)  # three chunks and a bit
    start = gcs.mark()
    storage.save("big.bin", ContentFile(data))
    requests = gcs.requests(start)

    assert [r.method for r in requests] == ["POST", "PUT", "PUT", "PUT", "PUT"]
    assert "uploadType=resumable" in requests[0].query
    ranges = [r.headers["content-range"] for r in requests[1:]]
    assert ranges == [
        "bytes 0-262143/*",
        "bytes 262144-524287/*",
        "bytes 524288-786431/*",
        f"bytes 786432-{len(data) - 1}/{len(data)}",
    ]
    assert storage.open("big.bin").read() == data


@pytest.mark.parametrize("lost", [2, 4])  # the answer to the second chunk; to the last one
def test_a_chunk_whose_answer_is_lost_is_not_sent_again(
    make_storage: Callable[..., GoogleCloudStorage],
    gcs: GCSEmulator,
    monkeypatch: pytest.MonkeyPatch,
    lost: int,
) -> None:
    """The connection drops after GCS stored a chunk: the session is asked what it holds
    (``Content-Range: bytes */*``) and the upload goes on from there, nothing resent."""
    import requests

    storage = make_storage(blob_chunk_size=256 * 1024)
    session = storage.client._http
    puts: list[int] = []
    real = session.request

    def drop_one_answer(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = real(method, url, *args, **kwargs)
        if method == "PUT":
            puts.append(1)
            if len(puts) == lost:
                raise requests.ConnectionError("connection reset after the server answered")
        return response

    monkeypatch.setattr(session, "request", drop_one_answer)
    data = bytes(range(256)) * (3 * 1024 + 10)  # three chunks and a bit
    start = gcs.mark()
    storage.save("big.bin", ContentFile(data))
    ranges = [r.headers.get("content-range") for r in gcs.requests(start) if r.method == "PUT"]

    status = f"bytes */{len(data)}" if lost == 4 else "bytes */*"
    assert ranges[lost] == status  # the status query, right after the lost answer
    assert len(ranges) == 5  # four chunks, one status query, no chunk sent twice
    monkeypatch.undo()
    assert storage.open("big.bin").read() == data


def test_a_chunk_of_a_file_on_disk_sent_again_is_hashed_once(
    make_storage: Callable[..., GoogleCloudStorage],
    gcs: GCSEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """A file on disk is hashed as its chunks are sent (not read once more to hash). A chunk
    whose sending breaks half-way is sent again from its start, and counted once in the
    object's CRC32C: GCS (and the emulator) refuse a last chunk whose X-Goog-Hash is wrong."""
    import requests
    from django.core.files import File

    storage = make_storage(blob_chunk_size=256 * 1024)
    session = storage.client._http
    puts: list[int] = []
    real = session.request

    def break_the_second_chunk(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method == "PUT" and kwargs.get("data"):
            puts.append(1)
            if len(puts) == 2:
                next(iter(kwargs["data"]))  # a first block read and hashed, then the reset
                raise requests.ConnectionError("connection reset while sending")
        return real(method, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", break_the_second_chunk)
    data = bytes(range(256)) * (3 * 1024 + 10)  # three chunks and a bit
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        start = gcs.mark()
        storage.save("disk.bin", File(handle, name="disk.bin"))
    ranges = [r.headers.get("content-range") for r in gcs.requests(start) if r.method == "PUT"]
    monkeypatch.undo()
    assert ranges.count("bytes 262144-524287/*") == 1  # the broken sending never arrived
    assert "bytes */*" in ranges  # the status query before sending it again
    assert storage.open("disk.bin").read() == data


def test_requests_are_prepared_without_the_session_merges(
    make_storage: Callable[..., GoogleCloudStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' per-request merges of the session's settings are skipped (about 37 us
    of client CPU per request) when there is nothing to merge; credentials still apply."""
    from storages_base.testing.quiet import check_requests_skip_session_merges

    check_requests_skip_session_merges(make_storage, monkeypatch)
