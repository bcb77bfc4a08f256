"""The shared parts of every provider's presigned_upload (each provider's own tests post
through its server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages_base.memory import MemoryStorage
from storages_base.uploads import PresignedUpload, form_fields, post_target


def test_a_form_post_gives_a_page_its_url_and_fields_only() -> None:
    upload = PresignedUpload.from_post(
        {"url": "https://b.example/", "fields": {"key": "a.txt", "x-amz-date": 20260101}},
        60,
        name="a.txt",
        key="a.txt",
        max_size=10,
    )
    answer = upload.as_dict()
    assert set(answer) == {"url", "fields", "name", "expires", "max_size"}
    assert answer["fields"] == {"key": "a.txt", "x-amz-date": "20260101"}
    left = upload.expires - datetime.now(timezone.utc)
    assert timedelta(seconds=55) < left <= timedelta(seconds=60)


def test_an_upload_whose_body_is_the_file_also_gives_its_method_and_headers() -> None:
    upload = PresignedUpload.lasting(
        60,
        url="https://a.example/c/a.txt?sig",
        fields={},
        method="PUT",
        headers={"x-ms-blob-type": "BlockBlob"},
        name="a.txt",
        key="a.txt",
        max_size=10,
    )
    answer = upload.as_dict()
    assert answer["method"] == "PUT"
    assert answer["headers"] == {"x-ms-blob-type": "BlockBlob"}


def test_the_target_is_the_cleaned_name_and_its_key_under_the_location() -> None:
    storage = MemoryStorage(location="media")
    target = post_target(storage, "a//b.txt", min_size=0, max_size=5, seconds=1, max_seconds=9)
    assert target == ("a/b.txt", "media/a/b.txt")


@pytest.mark.parametrize(
    ("sizes", "seconds"),
    [
        ((6, 5), 1),  # min above max
        ((-1, 5), 1),
        ((0, 5), 0),  # no time to use it
        ((0, 5), 10),  # longer than a signature lives
    ],
)
def test_impossible_limits_are_refused(sizes: tuple[int, int], seconds: int) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        post_target(
            MemoryStorage(),
            "a.txt",
            min_size=sizes[0],
            max_size=sizes[1],
            seconds=seconds,
            max_seconds=9,
        )


def test_a_name_out_of_the_location_is_refused() -> None:
    storage = MemoryStorage(location="media")
    with pytest.raises(SuspiciousFileOperation):
        post_target(storage, "../a.txt", min_size=0, max_size=5, seconds=1, max_seconds=9)


def test_object_parameters_become_the_form_fields_that_set_them() -> None:
    parameters = {"CacheControl": "max-age=60", "Metadata": {"owner": 42}, "Other": "x"}
    fields = form_fields(parameters, {"CacheControl": "Cache-Control"}, "Metadata", "x-meta-")
    assert fields == {"Cache-Control": "max-age=60", "x-meta-owner": "42"}
