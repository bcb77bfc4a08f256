"""What the client skips per request (``storages_s3.sdk``) changes nothing a request
carries or a response gives: each test reads what moto received or what a plain
botocore client answers."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile

from storages_base import TransientError
from storages_s3 import S3Storage
from storages_s3.client import client_config

from .conftest import S3Server, first_response_lost


def scope_region(headers: dict[str, str]) -> str:
    """The region of a SigV4 Authorization header's credential scope."""
    credential = headers["authorization"].split("Credential=", 1)[1].split(",", 1)[0]
    return credential.split("/")[2]


def sent(server: S3Server, operation: Any) -> list[tuple[str, str, dict[str, str]]]:
    start = server.mark()
    operation()
    return [(r.method, r.path, r.headers) for r in server.requests(start)]


def test_each_bucket_of_one_client_gets_its_own_endpoint(moto_counted: S3Server) -> None:
    first, second = moto_counted.new_bucket(), moto_counted.new_bucket()
    storage = moto_counted.storage(first)
    storage.save("a.txt", ContentFile(b"1"))
    moto_counted.client().put_object(Bucket=second, Key="a.txt", Body=b"22")
    client = storage.client

    def heads() -> None:
        for bucket in (first, second, first, second):
            client.head_object(Bucket=bucket, Key="a.txt")

    paths = [(method, path) for method, path, _ in sent(moto_counted, heads)]
    assert paths == [("HEAD", f"/{b}/a.txt") for b in (first, second, first, second)]
    assert client.head_object(Bucket=second, Key="a.txt")["ContentLength"] == 2


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("style", [None, "path", "virtual"])
@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:9000"])
def test_endpoints_are_botocores_for_every_bucket_and_operation(
    style: str | None, endpoint: str | None
) -> None:
    """The same endpoints as a plain botocore client (no cache), asked in turn for buckets
    botocore treats differently (virtual host, a dotted name, no host label at all) and
    operations whose context parameters differ (``Key``, ``Prefix``), each twice: the
    presigned URLs go through the same resolution as requests."""
    options: dict[str, Any] = {
        "bucket_name": "plain-bucket",
        "region_name": "eu-west-1",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "not-a-secret",
        "addressing_style": style,
        "endpoint_url": endpoint,
    }
    ours = S3Storage(**options).client
    plain = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=client_config(S3Storage(**options)),
    )
    buckets = ["plain-bucket", "dotted.bucket.name", "Not_A_Host", "plain-bucket", "other-bkt"]
    calls = [
        (method, {"Bucket": bucket, **params})
        for bucket in buckets * 2
        for method, params in (
            ("head_object", {"Key": "a/b.txt"}),
            ("get_object", {"Key": "c"}),
            ("list_objects_v2", {"Prefix": "p/"}),
            ("put_object", {"Key": "d"}),
        )
    ]
    urls = {
        side: [client.generate_presigned_url(method, params, 60) for method, params in calls]
        for side, client in (("ours", ours), ("plain", plain))
    }
    assert urls["ours"] == urls["plain"]
    paths = [url.split("?")[0] for url in urls["ours"]]
    assert all(p["Bucket"] in path for (_, p), path in zip(calls, paths, strict=True))


def test_builtins_changed_by_a_handler_are_followed_per_request(moto_counted: S3Server) -> None:
    """A region learnt for one bucket (botocore's redirect cache, or a user's handler on
    ``before-endpoint-resolution``) signs that bucket's requests only, from then on."""
    first, second = moto_counted.new_bucket(), moto_counted.new_bucket()
    storage = moto_counted.storage(first)
    client = storage.client
    moved: dict[str, str] = {}

    def region_of_bucket(builtins: dict[str, Any], params: dict[str, Any], **_: Any) -> None:
        if params.get("Bucket") in moved:
            builtins["AWS::Region"] = moved[params["Bucket"]]

    client.meta.events.register("before-endpoint-resolution.s3", region_of_bucket)

    def exists_in_both() -> None:
        assert storage.exists("a") is False
        assert client.list_objects_v2(Bucket=second)["KeyCount"] == 0

    before = sent(moto_counted, exists_in_both)
    moved[second] = "eu-west-1"
    after = sent(moto_counted, exists_in_both)
    moved.clear()
    again = sent(moto_counted, exists_in_both)

    assert [scope_region(h) for _, _, h in before] == ["us-east-1", "us-east-1"]
    assert [scope_region(h) for _, _, h in after] == ["us-east-1", "eu-west-1"]
    assert [scope_region(h) for _, _, h in again] == ["us-east-1", "us-east-1"]


def test_one_request_operations_are_still_retried_by_botocore(moto_counted: S3Server) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    storage.save("a.txt", ContentFile(b"hello"))
    for operation, call in (
        ("HeadObject", lambda: storage.exists("a.txt")),
        ("HeadObject", lambda: storage.size("a.txt")),
        ("DeleteObject", lambda: storage.delete("a.txt")),
    ):
        start = moto_counted.mark()
        with first_response_lost(storage, operation) as attempts:
            call()
        assert attempts == [1, 2], operation
        assert len(moto_counted.requests(start)) == 2, operation
    assert storage.exists("a.txt") is False


def test_a_missing_name_and_a_missing_bucket_are_still_told_apart(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    assert storage.exists("nothing-here") is False
    gone = moto_counted.storage(f"absent-{uuid.uuid4().hex[:8]}")
    with pytest.raises(FileNotFoundError):
        gone.size("a.txt")
    with pytest.raises(TransientError):
        moto_counted.storage(
            storage.bucket_name,
            endpoint_url="http://127.0.0.1:9",
            client_config=Config(retries={"max_attempts": 1}, connect_timeout=0.5),
        ).exists("a.txt")


@pytest.mark.parametrize("validation", ["when_supported", "when_required"])
def test_checksum_mode_is_still_asked_when_the_config_validates(
    moto_counted: S3Server, validation: str
) -> None:
    """The handler that sets ``ChecksumMode`` now runs for GetObject only (a user's
    client_config decides whether it does anything)."""
    storage = moto_counted.storage(
        moto_counted.new_bucket(),
        client_config=Config(
            request_checksum_calculation="when_required",
            response_checksum_validation=validation,
        ),
    )
    storage.save("a.txt", ContentFile(b"hello"))
    storage.save("b.txt", ContentFile(b"hello"))
    requests = sent(moto_counted, lambda: storage.open("a.txt").read())
    assert [method for method, _, _ in requests] == ["GET"]
    mode = requests[0][2].get("x-amz-checksum-mode")
    assert mode == ("ENABLED" if validation == "when_supported" else None)
    head = sent(moto_counted, lambda: storage.size("b.txt"))
    assert "x-amz-checksum-mode" not in head[0][2]


def test_an_idempotency_token_is_still_added_where_the_model_has_one(
    moto_counted: S3Server,
) -> None:
    """An operation with an idempotent member (RenameObject, in the S3 models of newer
    botocores than our floor, 1.36) still gets its token from botocore's handler;
    HeadObject's parameters are left alone."""
    client = moto_counted.storage(moto_counted.new_bucket()).client
    model = client.meta.service_model
    with_token = [n for n in model.operation_names if model.operation_model(n).idempotent_members]
    for operation, expected in [*((n, True) for n in with_token), ("HeadObject", False)]:
        op = model.operation_model(operation)
        params: dict[str, Any] = {"Bucket": "b", "Key": "k"}
        client.meta.events.emit(
            f"before-parameter-build.s3.{operation}", params=params, model=op, context={}
        )
        added = set(params) - {"Bucket", "Key"}
        assert bool(added & set(op.idempotent_members)) is expected, operation


def test_the_sdk_escape_hatch_resource_is_unaffected(moto_counted: S3Server) -> None:
    storage: S3Storage = moto_counted.storage(moto_counted.new_bucket())
    storage.save("a.txt", ContentFile(b"abc"))
    assert storage.bucket.Object("a.txt").content_length == 3


def _parsed(response: dict[str, Any]) -> tuple[list[str], dict[str, Any], int]:
    """What a parsed response says, without what differs per request (ids, dates)."""
    rest = {k: v for k, v in response.items() if k not in ("ResponseMetadata", "Body")}
    return list(rest), rest, response["ResponseMetadata"]["HTTPStatusCode"]


def test_responses_parse_as_botocores_own(moto_counted: S3Server) -> None:
    """Every member botocore reads from a response's headers, in the same order, for
    the operations a storage sends and for an error: HeaderMembers against a plain
    client of the same server."""
    bucket = moto_counted.new_bucket()
    ours = moto_counted.storage(bucket).client
    plain = moto_counted.client()
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    ours.put_object(
        Bucket=bucket,
        Key="full.txt",
        Body=b"hello",
        ContentType="text/plain; charset=utf-8",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="x.txt"',
        CacheControl="max-age=60",
        ContentLanguage="en",
        Expires=expires,
        Metadata={"Owner": "someone", "x-y": "z"},
        StorageClass="STANDARD_IA",
        ServerSideEncryption="AES256",
    )
    ours.put_object(Bucket=bucket, Key="bare.txt", Body=b"")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("head_object", {"Key": "full.txt"}),
        ("head_object", {"Key": "bare.txt"}),
        ("get_object", {"Key": "full.txt"}),
        ("get_object", {"Key": "full.txt", "Range": "bytes=1-2"}),
        ("put_object", {"Key": "new.txt", "Body": b"x"}),
        ("list_objects_v2", {"Prefix": "f", "Delimiter": "/"}),
        ("delete_object", {"Key": "new.txt"}),
    ]
    for method, params in calls:
        mine = getattr(ours, method)(Bucket=bucket, **params)
        theirs = getattr(plain, method)(Bucket=bucket, **params)
        assert _parsed(mine) == _parsed(theirs), (method, params)
    head = ours.head_object(Bucket=bucket, Key="full.txt")
    assert head["Metadata"] == {"owner": "someone", "x-y": "z"}
    assert head["ExpiresString"]
    assert head["Expires"] == expires
    assert head["ContentLength"] == 5
    assert head["CacheControl"] == "max-age=60"
    for method in ("head_object", "get_object"):
        errors = []
        for client in (ours, plain):
            with pytest.raises(ClientError) as caught:
                getattr(client, method)(Bucket=bucket, Key="missing.txt")
            errors.append((caught.value.response["Error"], _parsed(caught.value.response)))
        assert errors[0] == errors[1], method
