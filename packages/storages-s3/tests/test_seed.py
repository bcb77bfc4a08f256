"""The seed documentation's S3 examples, written as users write them (moto)."""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from storages_base.testing.django import docs_session
from storages_s3 import S3Storage
from storages_s3.s3boto3 import S3Boto3Storage

from .conftest import S3Server


@pytest.fixture
def aws_settings(moto: S3Server) -> object:
    """Credentials and endpoint as Django settings, as the seed assumes them configured."""
    with override_settings(
        AWS_ACCESS_KEY_ID=moto.access_key,
        AWS_SECRET_ACCESS_KEY=moto.secret_key,
        AWS_S3_ENDPOINT_URL=moto.endpoint,
        AWS_S3_REGION_NAME="us-east-1",
    ) as overridden:
        yield overridden


@pytest.mark.usefixtures("aws_settings")
def test_a_media_storage_subclass_names_its_bucket(moto: S3Server) -> None:
    bucket = moto.new_bucket()

    class MediaStorage(S3Boto3Storage):
        bucket_name = bucket

    storage = MediaStorage()
    storage.save("a.txt", ContentFile(b"x"))
    assert moto.client().get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"x"


@pytest.mark.usefixtures("aws_settings")
def test_a_media_storage_with_a_custom_domain_builds_urls_on_it(moto: S3Server) -> None:
    bucket = moto.new_bucket()

    class MediaStorage(S3Storage):
        bucket_name = bucket
        custom_domain = f"{bucket_name}.s3.amazonaws.com"

    assert MediaStorage().url("a b.txt") == f"https://{bucket}.s3.amazonaws.com/a%20b.txt"


@pytest.mark.usefixtures("aws_settings")
def test_two_storages_share_one_bucket_under_media_and_static(moto: S3Server) -> None:
    bucket = moto.new_bucket()

    class MediaStorage(S3Storage):
        bucket_name = bucket
        location = "media"

    class StaticStorage(S3Storage):
        bucket_name = bucket
        location = "static"

    MediaStorage().save("logo.png", ContentFile(b"media"))
    StaticStorage().save("logo.png", ContentFile(b"static"))

    assert MediaStorage().open("logo.png").read() == b"media"
    assert StaticStorage().open("logo.png").read() == b"static"
    keys = sorted(o["Key"] for o in moto.client().list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["media/logo.png", "static/logo.png"]
    assert MediaStorage().listdir("") == ([], ["logo.png"])


@pytest.mark.usefixtures("aws_settings")
def test_the_file_upload_view_pattern_saves_once_and_refuses_the_second(
    moto: S3Server,
) -> None:
    bucket = moto.new_bucket()

    class MediaStorage(S3Storage):
        bucket_name = bucket

    def upload(username: str, file_obj: SimpleUploadedFile) -> dict[str, str]:
        directory = f"user_upload_files/{username}"
        path = os.path.join(directory, file_obj.name)
        media_storage = MediaStorage()
        if not media_storage.exists(path):
            media_storage.save(path, file_obj)
            return {"message": "OK", "fileUrl": media_storage.url(path)}
        return {"message": f"Error: file {file_obj.name} already exists at {directory}"}

    first = upload("ann", SimpleUploadedFile("cv.pdf", b"%PDF-1", "application/pdf"))
    second = upload("ann", SimpleUploadedFile("cv.pdf", b"%PDF-2", "application/pdf"))

    assert first["message"] == "OK"
    assert f"/{bucket}/user_upload_files/ann/cv.pdf?" in first["fileUrl"]
    assert second["message"].startswith("Error: file cv.pdf already exists")
    head = moto.client().head_object(Bucket=bucket, Key="user_upload_files/ann/cv.pdf")
    assert head["ContentType"] == "application/pdf"


@pytest.mark.usefixtures("aws_settings")
def test_the_storage_settings_from_the_seed_work_with_the_default_storage(
    moto: S3Server,
) -> None:
    from django.core.files.storage import default_storage

    bucket = moto.new_bucket()
    storages = {"default": {"BACKEND": "storages_s3.s3boto3.S3Boto3Storage"}}
    with override_settings(STORAGES=storages, AWS_STORAGE_BUCKET_NAME=bucket):
        docs_session(default_storage)
