"""S3StaticStorage answers collectstatic's questions from one listing (counted by the server)."""

from __future__ import annotations

from django.core.files.base import ContentFile

from storages_s3 import S3StaticStorage

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
    for number in range(30):
        assert static.exists(f"css/f{number}.css")
        assert static.get_modified_time(f"css/f{number}.css") is not None
    assert not static.exists("css/missing.css")
    requests = moto_counted.requests(start)

    assert [(r.method, r.path.strip("/")) for r in requests] == [("GET", bucket)]  # a listing


def test_a_static_file_saved_after_the_listing_is_seen(moto_counted: S3Server) -> None:
    static = moto_counted.storage(moto_counted.new_bucket(), cls=S3StaticStorage)
    assert not static.exists("app.js")

    static.save("app.js", ContentFile(b"x"))

    assert static.exists("app.js")
    static.delete("app.js")
    assert not static.exists("app.js")
