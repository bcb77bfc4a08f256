"""403s name the IAM permission that is missing: moto in IAM-auth mode, a limited user.

moto checks IAM policies only once auth is switched on (``/moto-api/reset-auth``), which
is server-wide, so this module runs its own moto process instead of the shared one.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from django.core.files.base import ContentFile

from storages_base import PermissionDeniedError
from storages_s3 import S3Storage

from .conftest import own_moto_process

PUT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::*"]}],
}


@pytest.fixture(scope="module")
def put_only_storage() -> Iterator[S3Storage]:
    """A storage whose credentials may only s3:PutObject, on moto with IAM checks on."""
    with own_moto_process() as endpoint:
        admin = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": secrets.token_hex(8),
            "aws_secret_access_key": secrets.token_hex(16),
        }
        boto3.client("s3", **admin).create_bucket(Bucket="private-bucket")
        boto3.client("s3", **admin).put_object(Bucket="private-bucket", Key="there.txt", Body=b"x")
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="uploader")
        key = iam.create_access_key(UserName="uploader")["AccessKey"]
        iam.put_user_policy(
            UserName="uploader", PolicyName="put-only", PolicyDocument=json.dumps(PUT_ONLY)
        )
        urllib.request.urlopen(  # from now on moto checks every request against IAM
            urllib.request.Request(
                f"{endpoint}/moto-api/reset-auth",
                data=b"0",
                method="POST",
                headers={"Content-Type": "text/plain"},
            )
        )
        yield S3Storage(
            bucket_name="private-bucket",
            endpoint_url=endpoint,
            region_name="us-east-1",
            access_key=key["AccessKeyId"],
            secret_key=key["SecretAccessKey"],
        )


def test_an_allowed_save_succeeds(put_only_storage: S3Storage) -> None:
    assert put_only_storage.save("upload.txt", ContentFile(b"ok")) == "upload.txt"


@pytest.mark.parametrize("name", ["there.txt", "missing.txt"])
def test_exists_without_read_permissions_raises_naming_them(
    put_only_storage: S3Storage, name: str
) -> None:
    with pytest.raises(PermissionError) as caught:
        put_only_storage.exists(name)

    assert isinstance(caught.value, PermissionDeniedError)
    message = str(caught.value)
    assert "s3:GetObject" in message
    assert "s3:ListBucket" in message
    assert "private-bucket" in message
    assert name in message


def test_open_without_get_permission_names_s3_getobject(put_only_storage: S3Storage) -> None:
    with pytest.raises(PermissionDeniedError, match="s3:GetObject"):
        put_only_storage.open("there.txt")


def test_listdir_without_list_permission_names_s3_listbucket(
    put_only_storage: S3Storage,
) -> None:
    with pytest.raises(PermissionDeniedError, match="s3:ListBucket"):
        put_only_storage.listdir("")


def test_delete_without_delete_permission_names_s3_deleteobject(
    put_only_storage: S3Storage,
) -> None:
    with pytest.raises(PermissionDeniedError, match="s3:DeleteObject"):
        put_only_storage.delete("there.txt")


def test_the_secret_key_never_appears_in_the_error(put_only_storage: S3Storage) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        put_only_storage.exists("there.txt")
    assert put_only_storage.secret_key not in str(caught.value)


def test_a_wrong_secret_key_is_reported_as_a_signature_problem_not_a_permission(
    put_only_storage: S3Storage,
) -> None:
    storage = S3Storage(
        bucket_name=put_only_storage.bucket_name,
        endpoint_url=put_only_storage.endpoint_url,
        region_name="us-east-1",
        access_key=put_only_storage.access_key,
        secret_key=secrets.token_hex(16),  # not the key's secret
    )
    with pytest.raises(PermissionDeniedError) as caught:
        storage.save("upload.txt", ContentFile(b"ok"))
    message = str(caught.value)
    assert "SignatureDoesNotMatch" in message
    assert "secret key" in message
    assert "region_name" in message
    assert "s3:PutObject" not in message
