"""S3StaticStorage answers collectstatic's questions from one listing (counted by the server)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from storages_base import WriteRequest
from storages_base.testing import collectstatic
from storages_s3 import S3ManifestStaticStorage, S3StaticStorage

from .conftest import S3Server


def test_exists_and_modified_times_of_many_static_files_cost_one_listing(
    moto_counted: S3Server,
) -> None:
    bucket = moto_counted.new_bucket()
    writer = moto_counted.storage(bucket, location="static")
    for number in range(30):
        writer.save(f"css/f{number}.css", ContentFile(b"body {}"))
    static = moto_counted.storage(bucket, cls=S3StaticStorage, location="static")
    static.client  # noqa: B018 - building the client costs no request

    start = moto_counted.mark()
    with static.batch():  # as the collectstatic command runs
        for number in range(30):
            assert static.exists(f"css/f{number}.css")
            assert static.get_modified_time(f"css/f{number}.css") is not None
        assert not static.exists("css/missing.css")
    requests = moto_counted.requests(start)

    assert [(r.method, r.path.strip("/")) for r in requests] == [("GET", bucket)]  # a listing


def test_outside_a_batch_a_static_storage_never_lists_and_never_calls_a_file_missing(
    moto_counted: S3Server,
) -> None:
    """A web worker next to the process that ran collectstatic: a file written since by
    someone else exists, and no request of the worker lists the bucket."""
    bucket = moto_counted.new_bucket()
    static = moto_counted.storage(bucket, cls=S3StaticStorage, location="static")
    with static.batch():
        assert not static.exists("late.css")  # listed in the batch
    moto_counted.client().put_object(Bucket=bucket, Key="static/late.css", Body=b"x")
    start = moto_counted.mark()
    assert static.exists("late.css")
    assert static.get_modified_time("late.css") is not None
    assert not static.exists("never.css")
    requests = moto_counted.requests(start)
    assert [r.method for r in requests] == ["HEAD", "HEAD", "HEAD"]  # no listing


def test_a_static_file_saved_after_the_listing_is_seen(moto_counted: S3Server) -> None:
    static = moto_counted.storage(moto_counted.new_bucket(), cls=S3StaticStorage)
    assert not static.exists("app.js")

    static.save("app.js", ContentFile(b"x"))

    assert static.exists("app.js")
    static.delete("app.js")
    assert not static.exists("app.js")


class Recording(S3StaticStorage):
    """Records the threads its uploads ran on (the SDK and the server are real)."""

    writers: set[str]

    def _write(self, request: WriteRequest) -> None:
        self.__dict__.setdefault("writers", set()).add(threading.current_thread().name)
        super()._write(request)


@pytest.mark.parametrize("batch", [True, False], ids=["command", "django-command"])
def test_collectstatic_costs_a_put_per_new_file_then_one_listing_when_nothing_changed(
    moto_counted: S3Server, tmp_path: Path, batch: bool
) -> None:
    """The same requests with storages_base's command (uploads on threads) as without it
    (one after another)."""
    for number in range(12):
        (tmp_path / f"f{number}.js").write_text(f"var f = {number};\n")
    bucket = moto_counted.new_bucket()
    writers: set[str] = set()

    def deploy() -> list[str]:
        storage = moto_counted.storage(bucket, cls=Recording, location="static")
        storage.client  # noqa: B018 - building the client costs no request
        start = moto_counted.mark()
        collectstatic(storage, tmp_path, batch=batch)
        writers.update(storage.__dict__.get("writers", ()))
        return sorted(r.method for r in moto_counted.requests(start))

    if batch:
        assert deploy() == ["GET"] + ["PUT"] * 12  # one listing, no HEAD per file
        assert deploy() == ["GET"]  # nothing changed: the listing alone
    else:  # Django's own command opens no batch: no listing, the server answers each file
        assert deploy() == ["HEAD"] * 12 + ["PUT"] * 12
        assert "GET" not in deploy()
    threaded = {name.startswith("storages-upload") for name in writers}
    assert threaded == {batch}
    reader = moto_counted.storage(bucket, location="static")
    assert reader.open("f3.js").read() == b"var f = 3;\n"


@pytest.mark.parametrize("batch", [True, False], ids=["command", "django-command"])
def test_a_manifest_deploy_with_nothing_changed_uploads_and_deletes_nothing(
    moto_counted: S3Server, tmp_path: Path, batch: bool
) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "img").mkdir()
    (tmp_path / "css" / "app.css").write_text('body { background: url("../img/bg.png"); }\n')
    (tmp_path / "img" / "bg.png").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "app.js").write_text("console.log('hi');\n")
    bucket = moto_counted.new_bucket()

    def deploy() -> list[str]:
        storage = moto_counted.storage(bucket, cls=S3ManifestStaticStorage)
        storage.client  # noqa: B018 - building the client costs no request
        start = moto_counted.mark()
        collectstatic(storage, tmp_path, batch=batch)
        return [f"{r.method} {r.path}" for r in moto_counted.requests(start)]

    first = deploy()
    puts = [request for request in first if request.startswith("PUT")]
    assert puts  # copies, hashed copies, the manifest last: each once, nothing deleted
    assert len(puts) == len(set(puts)) == 7
    assert puts[-1].endswith("/staticfiles.json")
    assert not [request for request in first if request.startswith("DELETE")]
    if not batch:  # Django's own command: the copies ask the server (no preload outside a
        # batch); post-processing runs in a batch of its own: one listing per deploy
        for requests in (first, deploy()):
            listings = [r for r in requests if r.split()[1].rstrip("/") == f"/{bucket}"]
            assert len(listings) == 1
        return
    assert sorted(r.split()[0] for r in first) == ["GET"] + ["PUT"] * 7
    again = deploy()
    assert sorted(r.split()[0] for r in again) == ["GET"]  # the listing alone
    manifest = moto_counted.storage(bucket).open("staticfiles.json").read()
    assert b"css/app." in manifest
