"""S3 with the storages_base app: system checks, ``storages_check`` and ``storages_copy``.

``storages_check`` runs against moto over HTTP: a working bucket, a missing bucket,
and a moto with IAM authentication switched on (its own process, as that switch is
global), where a user without ``s3:DeleteObject`` and a wrong secret key fail the
way they fail on AWS. No local server rejects boto3's checksums as some S3-compatible
services do, so that one diagnosis is shown on a hand-made botocore error (and says so).
"""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.test import override_settings

from storages_base.checks import check_storages, diagnose
from storages_base.management.commands import storages_copy
from storages_base.testing.django import run_storages_check as check
from storages_s3 import S3Storage

from .conftest import S3Server, own_moto_process

S3 = "storages_s3.S3Storage"
FS = "django.core.files.storage.FileSystemStorage"


def line(output: str, step: str) -> str:
    return next(text for text in output.splitlines() if text.strip().startswith(step + " "))


def advice(output: str, step: str) -> str:
    lines = output.splitlines()
    index = lines.index(line(output, step))
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return following.split("-> ", 1)[1] if "-> " in following else ""


# -- system checks -------------------------------------------------------------------------


def ids(**storages_setting: Any) -> list[str]:
    with override_settings(STORAGES=storages_setting):
        return [message.id for message in check_storages()]  # type: ignore[misc]


def test_a_sound_s3_configuration_passes_the_system_checks() -> None:
    assert ids(default={"BACKEND": S3, "OPTIONS": {"bucket_name": "media"}}) == []


def test_a_missing_bucket_name_is_reported_with_the_setting_to_set() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": S3}}):
        messages = check_storages()

    assert [m.id for m in messages] == ["storages_s3.E001"]
    assert "has no bucket name" in messages[0].msg
    assert messages[0].hint == (
        "Set AWS_STORAGE_BUCKET_NAME (or STORAGES['default']['OPTIONS']['bucket_name'])."
    )


@pytest.mark.parametrize("domain", ["cdn.example.com/", "https://cdn.example.com"])
def test_a_custom_domain_with_a_slash_or_a_scheme_is_an_error(domain: str) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": S3}},
        AWS_STORAGE_BUCKET_NAME="media",
        AWS_S3_CUSTOM_DOMAIN=domain,
    ):
        messages = check_storages()

    assert [m.id for m in messages] == ["storages_s3.E002"]
    assert "AWS_S3_CUSTOM_DOMAIN = 'cdn.example.com'" in (messages[0].hint or "")


def test_static_url_without_its_slash_next_to_a_custom_domain_is_an_error() -> None:
    static = {"BACKEND": "storages_s3.S3StaticStorage", "OPTIONS": {"bucket_name": "static"}}
    static["OPTIONS"]["custom_domain"] = "cdn.example.com"

    with override_settings(STORAGES={"staticfiles": static}, STATIC_URL="https://cdn.example.com"):
        assert ids(staticfiles=static) == ["storages_s3.E003"]
    with override_settings(STATIC_URL="https://cdn.example.com/"):
        assert ids(staticfiles=static) == []


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"cloudfront_key": b"-----BEGIN RSA PRIVATE KEY-----"}, "cloudfront_key_id"),
        ({"cloudfront_key_id": "K2JCJMDEHXQW5F"}, "cloudfront_key"),
    ],
)
def test_a_cloudfront_key_without_its_key_id_is_an_error(
    given: dict[str, Any], missing: str
) -> None:
    entry = {
        "BACKEND": S3,
        "OPTIONS": {"bucket_name": "media", "custom_domain": "cdn.example.com", **given},
    }
    with override_settings(STORAGES={"default": entry}):
        messages = check_storages()

    assert [m.id for m in messages] == ["storages_s3.E004"]
    assert f"but {missing} is not" in messages[0].msg


def test_an_endpoint_without_a_region_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    entry = {"BACKEND": S3, "OPTIONS": {"bucket_name": "media"}}
    with override_settings(AWS_S3_ENDPOINT_URL="https://fra1.digitaloceanspaces.com"):
        assert ids(default=entry) == ["storages_s3.W001"]
        with override_settings(AWS_S3_REGION_NAME="fra1"):
            assert ids(default=entry) == []


def test_the_s3_checks_are_loaded_only_through_a_configured_s3_backend() -> None:
    import storages_s3.checks  # noqa: F401 - registered once, applied per class

    with override_settings(STORAGES={"default": {"BACKEND": "storages_base.memory.MemoryStorage"}}):
        assert check_storages() == []


# -- storages_check on moto ------------------------------------------------------------------


def test_check_passes_on_a_working_bucket_and_fetches_the_presigned_url(
    moto: S3Server, moto_bucket: str
) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": S3, "OPTIONS": moto.options(moto_bucket)}}
    ):
        output, status = check()

    assert status == 0, output
    assert "default  storages_s3.storage.S3Storage" in output
    assert "HTTP 200" in line(output, "fetch url")
    assert moto.client().list_objects_v2(Bucket=moto_bucket).get("KeyCount", 0) == 0


def test_check_says_unsigned_urls_of_a_private_bucket_need_public_reads(
    moto: S3Server, moto_bucket: str
) -> None:
    static = {"BACKEND": "storages_s3.S3StaticStorage", "OPTIONS": moto.options(moto_bucket)}
    with override_settings(STORAGES={"staticfiles": static}):
        output, status = check()

    assert status == 1
    assert "HTTPError: HTTP Error 403" in line(output, "fetch url")
    assert "AWS_QUERYSTRING_AUTH = False" in advice(output, "fetch url")
    assert " ok " in line(output, "delete")  # the rest of the round trip still ran
    with override_settings(
        STORAGES={
            "staticfiles": {
                **static,
                "OPTIONS": {**static["OPTIONS"], "default_acl": "public-read"},
            }
        }
    ):
        assert check()[1] == 0


def test_check_says_when_the_bucket_does_not_exist(moto: S3Server) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": S3, "OPTIONS": moto.options("no-such-bucket-here")}}
    ):
        output, status = check()

    assert status == 1
    assert "FAIL" in line(output, "save")
    assert advice(output, "save").startswith("The bucket 'no-such-bucket-here' does not exist")


@pytest.fixture(scope="module")
def moto_with_iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A moto process with IAM checks on: a bucket, and a user who may not delete."""
    with own_moto_process(tmp_path_factory.mktemp("moto-iam") / "moto.log") as endpoint:
        root = {"aws_access_key_id": "root", "aws_secret_access_key": "root"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **root).create_bucket(
            Bucket="guarded"
        )
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **root)
        iam.create_user(UserName="uploader")
        actions = ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]  # no s3:DeleteObject
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": ["arn:aws:s3:::guarded", "arn:aws:s3:::guarded/*"],
                }
            ],
        }
        iam.put_user_policy(
            UserName="uploader", PolicyName="no-delete", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="uploader")["AccessKey"]
        urllib.request.urlopen(  # from now on moto checks every signature and policy
            urllib.request.Request(
                f"{endpoint}/moto-api/reset-auth",
                data=b"0",
                method="POST",
                headers={"Content-Type": "text/plain"},
            ),
            timeout=10,
        ).close()
        yield {
            "endpoint_url": endpoint,
            "access_key": key["AccessKeyId"],
            "secret_key": key["SecretAccessKey"],
        }


def iam_storage(server: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "BACKEND": S3,
        "OPTIONS": {"bucket_name": "guarded", "region_name": "us-east-1", **server, **extra},
    }


def test_a_missing_permission_is_named_from_the_iam_policy(moto_with_iam: dict[str, Any]) -> None:
    with override_settings(STORAGES={"default": iam_storage(moto_with_iam)}):
        output, status = check()

    assert status == 1
    assert " ok " in line(output, "save")
    assert " ok " in line(output, "read")
    assert "FAIL" in line(output, "delete")
    assert "PermissionDeniedError" in line(output, "delete")
    assert advice(output, "delete").startswith("Grant s3:DeleteObject to these credentials")


def test_a_wrong_secret_key_points_at_region_signature_and_addressing(
    moto_with_iam: dict[str, Any],
) -> None:
    wrong = {**moto_with_iam, "secret_key": "not-the-secret"}
    with override_settings(STORAGES={"default": iam_storage(wrong)}):
        output, status = check()

    assert status == 1
    text = advice(output, "save")
    assert "(SignatureDoesNotMatch)" in text
    for hint in ("AWS_S3_REGION_NAME", "AWS_S3_SIGNATURE_VERSION", "AWS_S3_ADDRESSING_STYLE"):
        assert hint in text


def test_an_unknown_access_key_is_named(moto_with_iam: dict[str, Any]) -> None:
    unknown = {**moto_with_iam, "access_key": "AKIAUNKNOWN000000000"}
    with override_settings(STORAGES={"default": iam_storage(unknown)}):
        output, status = check()

    assert status == 1
    assert "access key id" in advice(output, "save")


def test_a_service_rejecting_checksums_is_told_to_send_them_only_when_required() -> None:
    # No local S3 server rejects boto3's optional checksums (B2, R2 and others do), so
    # the error is made by hand here: only the diagnosis is under test.
    storage = S3Storage(bucket_name="media", endpoint_url="http://127.0.0.1:9")
    refused = ClientError(
        {
            "Error": {"Code": "XAmzContentSHA256Mismatch", "Message": "checksum"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutObject",
    )
    try:
        raise RuntimeError("save failed") from refused
    except RuntimeError as error:
        text = diagnose(storage, "save", error)

    assert "request_checksum_calculation='when_required'" in text
    assert "AWS_S3_CLIENT_CONFIG" in text


# -- storages_copy to and from moto -----------------------------------------------------------


def test_copy_from_a_local_folder_to_s3_and_resume_by_size_and_md5(
    moto: S3Server, moto_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "media"
    (local / "img").mkdir(parents=True)
    (local / "a.txt").write_bytes(b"alpha")
    (local / "img" / "b.png").write_bytes(b"\x89PNG" + bytes(5000))
    setting = {
        "default": {"BACKEND": FS, "OPTIONS": {"location": str(local)}},
        "cloud": {"BACKEND": S3, "OPTIONS": moto.options(moto_bucket, location="media")},
    }
    out = io.StringIO()
    with override_settings(STORAGES=setting):
        call_command(storages_copy.Command(), "default", "cloud", stdout=out)
        (local / "a.txt").write_bytes(b"ALPHA")  # same size, other bytes: the MD5 tells
        call_command(storages_copy.Command(), "default", "cloud", stdout=out)
        cloud = storages["cloud"]
        stored = cloud.open("a.txt").read()

    first, second = out.getvalue().splitlines()[1], out.getvalue().splitlines()[3]
    assert first.startswith("copied 2, skipped 0 already there, failed 0")
    assert second.startswith("copied 1, skipped 1 already there, failed 0")
    assert stored == b"ALPHA"
    keys = {o["Key"] for o in moto.client().list_objects_v2(Bucket=moto_bucket)["Contents"]}
    assert keys == {"media/a.txt", "media/img/b.png"}


def test_copy_from_s3_to_a_local_folder_streams_every_object(
    moto: S3Server, moto_bucket: str, tmp_path: Path
) -> None:
    source = moto.storage(moto_bucket)
    for i in range(12):
        source.save(f"f/{i}.bin", ContentFile(bytes([i]) * (1000 + i)))
    setting = {
        "cloud": {"BACKEND": S3, "OPTIONS": moto.options(moto_bucket)},
        "local": {"BACKEND": FS, "OPTIONS": {"location": str(tmp_path)}},
    }
    out = io.StringIO()
    with override_settings(STORAGES=setting):
        call_command(storages_copy.Command(), "cloud", "local", "--workers", "6", stdout=out)

    assert "copied 12, skipped 0 already there, failed 0" in out.getvalue()
    assert (tmp_path / "f" / "7.bin").read_bytes() == bytes([7]) * 1007
