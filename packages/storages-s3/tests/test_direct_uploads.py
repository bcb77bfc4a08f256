"""Direct uploads: ``storage.presigned_upload()`` signs a POST a browser sends to S3.

Neither moto nor s3rver enforces a POST policy (both store whatever is posted and
check no signature), so these tests prove the upload two ways: the POST built from
the returned URL and fields stores the file where the storage reads it, on both
servers; and the signed policy says what it must (key, size range, content type,
ACL, expiry), with a signature recomputed here from the secret key per SigV4.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages_s3.uploads import PresignedUpload

from .conftest import S3Server


def post(upload: PresignedUpload, data: bytes, filename: str = "upload.bin") -> int:
    """POST the form fields and the file (last) as a browser does; return the status."""
    boundary = "----test" + secrets.token_hex(8)
    body = io.BytesIO()
    for name, value in upload.fields.items():
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        )
        body.write(value.encode() + b"\r\n")
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    body.write(data + b"\r\n" + f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        upload.url,
        data=body.getvalue(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def policy_of(upload: PresignedUpload) -> dict[str, Any]:
    return json.loads(base64.b64decode(upload.fields["policy"]))  # type: ignore[no-any-return]


def sigv4_signature(secret: str, upload: PresignedUpload) -> str:
    """The SigV4 signature of the policy document, derived here from the secret key."""
    _key_id, date, region, service, _ = upload.fields["x-amz-credential"].split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, upload.fields["policy"].encode(), hashlib.sha256).hexdigest()


def test_a_file_posted_with_the_presigned_fields_is_stored_under_its_name(
    server: S3Server, bucket: str
) -> None:
    storage = server.storage(bucket, location="media")
    upload = storage.presigned_upload("avatars/me.png", max_size=1024, content_type="image/png")

    assert post(upload, b"\x89PNG not really") in (200, 201, 204)

    assert upload.name == "avatars/me.png"
    assert upload.key == "media/avatars/me.png"
    with storage.open("avatars/me.png", "rb") as stored:
        assert stored.read() == b"\x89PNG not really"


def test_the_policy_fixes_the_key_the_size_range_and_the_content_type(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, signature_version="s3v4")
    upload = storage.presigned_upload(
        "in/photo.jpg", max_size=5_000_000, content_type="image/jpeg", expire=120, min_size=1
    )

    conditions = policy_of(upload)["conditions"]
    assert ["content-length-range", 1, 5_000_000] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": "in/photo.jpg"} in conditions
    assert {"bucket": moto_bucket} in conditions
    assert upload.fields["Content-Type"] == "image/jpeg"


def test_a_content_type_ending_in_a_slash_only_fixes_its_start(
    moto: S3Server, moto_bucket: str
) -> None:
    upload = moto.storage(moto_bucket).presigned_upload("x", max_size=10, content_type="image/")

    assert ["starts-with", "$Content-Type", "image/"] in policy_of(upload)["conditions"]
    assert "Content-Type" not in upload.fields


def test_the_policy_expires_after_the_given_seconds(moto: S3Server, moto_bucket: str) -> None:
    before = datetime.now(timezone.utc)
    upload = moto.storage(moto_bucket).presigned_upload("x.txt", max_size=10, expire=90)

    expiration = datetime.fromisoformat(policy_of(upload)["expiration"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=89) <= expiration <= before + timedelta(seconds=92)
    assert abs((upload.expires - expiration).total_seconds()) < 2


def test_expire_defaults_to_querystring_expire(moto: S3Server, moto_bucket: str) -> None:
    upload = moto.storage(moto_bucket, querystring_expire=600).presigned_upload("x", max_size=1)

    expiration = datetime.fromisoformat(policy_of(upload)["expiration"].replace("Z", "+00:00"))
    remaining = (expiration - datetime.now(timezone.utc)).total_seconds()
    assert 590 < remaining <= 600


def test_the_policy_signature_is_sigv4_of_the_policy_with_the_secret_key(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, signature_version="s3v4")
    upload = storage.presigned_upload("signed.txt", max_size=100)

    assert upload.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert upload.fields["x-amz-credential"].startswith(moto.access_key + "/")
    assert upload.fields["x-amz-signature"] == sigv4_signature(moto.secret_key, upload)


def test_the_default_acl_and_object_parameters_are_sent_and_fixed_by_the_policy(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(
        moto_bucket,
        default_acl="public-read",
        object_parameters={"CacheControl": "max-age=60", "Metadata": {"origin": "browser"}},
    )
    upload = storage.presigned_upload("public/p.txt", max_size=100, content_type="text/plain")

    conditions = policy_of(upload)["conditions"]
    assert {"acl": "public-read"} in conditions
    assert {"Cache-Control": "max-age=60"} in conditions
    assert {"x-amz-meta-origin": "browser"} in conditions
    post(upload, b"hello")
    head = moto.client().head_object(Bucket=moto_bucket, Key="public/p.txt")
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"] == {"origin": "browser"}
    assert head["ContentType"] == "text/plain"
    with urllib.request.urlopen(storage.url("public/p.txt").split("?")[0], timeout=10) as r:
        assert r.read() == b"hello"  # public-read: fetched without a signature


def test_a_name_leaving_the_location_is_refused_before_signing(
    moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, location="media")

    with pytest.raises(SuspiciousFileOperation):
        storage.presigned_upload("../secrets/x", max_size=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_size": -1}, "min_size <= max_size"),
        ({"max_size": 10, "min_size": 11}, "min_size <= max_size"),
        ({"max_size": 10, "expire": 0}, "expire"),
        ({"max_size": 10, "expire": 8 * 24 * 3600}, "expire"),
    ],
)
def test_impossible_limits_are_refused(
    moto: S3Server, moto_bucket: str, kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        moto.storage(moto_bucket).presigned_upload("x", **kwargs)  # type: ignore[arg-type]


def test_signing_makes_no_request(moto_counted: S3Server) -> None:
    bucket = moto_counted.new_bucket()
    storage = moto_counted.storage(bucket)
    storage.client  # noqa: B018 - build the client first: it is not part of the cost
    mark = moto_counted.mark()

    storage.presigned_upload("a.txt", max_size=10)

    assert moto_counted.requests(mark) == []


def test_as_dict_gives_a_page_what_it_posts(moto: S3Server, moto_bucket: str) -> None:
    upload = moto.storage(moto_bucket).presigned_upload("a.txt", max_size=10, expire=60)

    data = upload.as_dict()
    assert set(data) == {"url", "fields", "name", "expires", "max_size"}
    assert json.loads(json.dumps(data))["fields"] == upload.fields


def test_a_cross_origin_page_may_read_the_answer_when_the_bucket_cors_allows_it(
    moto: S3Server, moto_bucket: str
) -> None:
    # moto applies a bucket's CORS rule to preflight requests only: a form POST needs
    # none, and moto echoes any Origin on the POST's answer, rule or not (real S3 does
    # not). So the rule is shown here on the preflight, for the right and a wrong origin.
    origin = "http://127.0.0.1:8000"
    moto.client().put_bucket_cors(
        Bucket=moto_bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["POST"]}]},
    )
    upload = moto.storage(moto_bucket).presigned_upload("c.txt", max_size=10)
    request = urllib.request.Request(
        upload.url,
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            allowed = response.headers["Access-Control-Allow-Origin"]
    except urllib.error.HTTPError as exc:  # pragma: no cover - shows the answer
        raise AssertionError(f"preflight refused: {exc.code}") from exc

    assert allowed == origin
    stranger = urllib.request.Request(
        upload.url,
        method="OPTIONS",
        headers={"Origin": "http://127.0.0.1:9999", "Access-Control-Request-Method": "POST"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stranger, timeout=10)
    assert refused.value.code == 403
