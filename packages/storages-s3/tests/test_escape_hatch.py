"""django-storages' attributes that user code reaches: ``connection``, ``bucket``,
``bucket_name``, ``S3File.obj``, ``get_default_settings()`` — the SDK escape hatch."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_s3 import S3File, S3Storage

from .conftest import S3Server


def test_nothing_is_built_at_construction(moto_counted: S3Server) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    start = moto_counted.mark()
    built = set(vars(storage))
    assert not built & {"client", "session", "_resources"}
    storage.bucket  # noqa: B018 - a Bucket object, no request
    assert moto_counted.requests(start) == []


def test_connection_and_bucket_are_boto3_resources_of_the_storage(moto: S3Server) -> None:
    bucket = moto.new_bucket()
    storage = moto.storage(bucket, location="media")
    storage.save("a.txt", ContentFile(b"hello"))

    assert storage.bucket_name == bucket
    assert storage.bucket.name == bucket
    assert storage.connection.meta.client.meta.endpoint_url == moto.endpoint
    keys = [item.key for item in storage.bucket.objects.filter(Prefix="media/")]
    assert keys == ["media/a.txt"]
    assert storage.connection.Object(bucket, "media/a.txt").get()["Body"].read() == b"hello"


def test_connection_is_one_resource_per_thread(moto: S3Server) -> None:
    storage = moto.storage(moto.new_bucket())
    mine = storage.connection
    assert storage.connection is mine
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(storage.connection))
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_an_open_file_has_its_boto3_object(moto: S3Server) -> None:
    storage = moto.storage(moto.new_bucket(), location="media")
    storage.save("docs/a.txt", ContentFile(b"hello"))
    with storage.open("docs/a.txt") as file:
        assert isinstance(file, S3File)
        assert file.obj.key == "media/docs/a.txt"
        assert file.obj.content_length == 5  # a HEAD, through the resource
        assert file.read() == b"hello"


def test_get_default_settings_reads_the_settings_not_the_options() -> None:
    with override_settings(AWS_STORAGE_BUCKET_NAME="from-settings", AWS_LOCATION="m"):
        storage = S3Storage(bucket_name="given")
        defaults = storage.get_default_settings()
    assert defaults["bucket_name"] == "from-settings"
    assert defaults["location"] == "m"
    assert defaults["querystring_expire"] == 3600
    assert storage.bucket_name == "given"


def test_bucket_without_a_bucket_name_says_what_to_set() -> None:
    with override_settings(AWS_STORAGE_BUCKET_NAME=None):
        storage = S3Storage()
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        storage.bucket  # noqa: B018
