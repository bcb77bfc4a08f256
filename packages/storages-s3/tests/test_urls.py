"""url(): presigned SigV4, unsigned, custom-domain and CloudFront-signed URLs.

No local server verifies SigV4 signatures (moto and s3rver both accept a wrong one), so
the proof of the hand-written signer is byte-identity with botocore's own presigner for
the same frozen instant, credentials and parameters, across many names and
configurations. The servers then show that the URLs address the right objects (moto) and
that expiry is honoured (s3rver). CloudFront signatures are checked with the public key.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import socket
import string
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore
import botocore.auth
import pytest
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    EndpointResolutionError,
    NoCredentialsError,
    ParamValidationError,
)
from botocore.signers import CloudFrontSigner as BotocoreCloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from storages_s3 import S3StaticStorage, S3Storage, cloudfront, sigv4, urls
from storages_s3.urls import S3UrlBuilder

from .conftest import FROZEN, S3Server

ACCESS_KEY = "AKIDEXAMPLE0TEST"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjE/token+with=odd/chars"

NAMES = [
    "file.txt",
    "ãlöhâ.jpg",
    "dir/sub dir/file name.txt",
    "a+b=c&d.txt",
    "tilde~and-dash_under.score",
    "dir/",
    "deep/nested/path/",
    "!*'()@$,;:[]#?%.bin",
    "emoji-\U0001f600.png",
    "a//double/./slash/../x",
    "/leading-slash",
    "x" * 1000,
    "日本語/ファイル.txt",
    "percent%2Fencoded",
    "spaces  and\ttab",
]
PARAMETER_SETS: list[dict[str, Any] | None] = [
    None,
    {},
    {"ResponseContentDisposition": 'attachment; filename="ä b.txt"'},
    {"ResponseContentType": "text/plain; charset=utf-8", "VersionId": "v 1/2"},
    {"VersionId": "3", "ResponseCacheControl": "no-cache", "ResponseContentEncoding": "gzip"},
    {"ResponseContentLanguage": "fr", "PartNumber": 2},
    {"Bucket": "ignored", "Key": "ignored", "ResponseContentType": "image/png"},
]


# -- fixtures and helpers ------------------------------------------------------------------


def session(token: str | None = None, **kwargs: Any) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        **kwargs,
    )


def stand_in(**options: Any) -> SimpleNamespace:
    """An object carrying the storage options S3UrlBuilder reads (and a real session)."""
    values: dict[str, Any] = {
        "bucket_name": "media-bucket",
        "custom_domain": None,
        "url_protocol": "https:",
        "querystring_auth": True,
        "querystring_expire": 3600,
        "signature_version": None,
        "addressing_style": None,
        "endpoint_url": None,
        "region_name": None,
        "use_ssl": True,
        "cloudfront_key_id": None,
        "cloudfront_key": None,
        "cloudfront_signer": None,
        "client_config": None,
        "session_profile": None,
        "access_key": None,  # None: credentials come from the session
        "secret_key": None,
        "security_token": None,
    }
    values.update(options)
    values.setdefault("session", session())
    return SimpleNamespace(**values)


class NoSession:
    """A session that fails the test if a URL needs it (keys in the options suffice)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the URL needed the boto3 session ({name})")


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No AWS config file and no AWS_* variable but keys: URLs need no session at all."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
            monkeypatch.delenv(name)


def botocore_client(storage: Any, signed: bool = True) -> Any:
    """The client django-storages builds for these options (SigV4 when unset)."""
    config = storage.client_config or Config(
        s3={"addressing_style": storage.addressing_style},
        signature_version=storage.signature_version,
    )
    if not signed:
        config = config.merge(Config(signature_version=botocore.UNSIGNED))
    elif config.signature_version is None:
        config = config.merge(Config(signature_version="s3v4"))
    return storage.session.client(
        "s3",
        region_name=storage.region_name,
        endpoint_url=storage.endpoint_url,
        use_ssl=storage.use_ssl,
        config=config,
    )


def botocore_url(
    client: Any,
    bucket: str,
    key: str,
    parameters: dict[str, Any] | None = None,
    expire: int = 3600,
    http_method: str | None = None,
) -> str:
    params = dict(parameters or {})
    params.update(Bucket=bucket, Key=key)
    return str(
        client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expire, HttpMethod=http_method
        )
    )


def uses_botocore(builder: S3UrlBuilder) -> bool:
    return builder._client is not None


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse and record every connection or name lookup attempted while it is active."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network access during url()")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes, Any]:
    headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


# -- presigned SigV4: byte-identical to botocore -----------------------------------------

CONFIGURATIONS = {
    "default region (us-east-1)": {},
    "us-east-1": {"region_name": "us-east-1"},
    "eu-west-1": {"region_name": "eu-west-1"},
    "ap-southeast-2 virtual": {"region_name": "ap-southeast-2", "addressing_style": "virtual"},
    "eu-central-1 path": {"region_name": "eu-central-1", "addressing_style": "path"},
    "us-east-1 virtual": {"region_name": "us-east-1", "addressing_style": "virtual"},
    "us-east-1 path": {"region_name": "us-east-1", "addressing_style": "path"},
    "auto style": {"region_name": "us-west-2", "addressing_style": "auto"},
    "s3v4 explicit": {"region_name": "eu-west-1", "signature_version": "s3v4"},
    "dotted bucket": {"region_name": "eu-west-1", "bucket_name": "my.dotted.bucket"},
    "dotted bucket us-east-1": {"bucket_name": "my.dotted.bucket"},
    "dotted bucket virtual": {
        "region_name": "sa-east-1",
        "bucket_name": "a.b.c",
        "addressing_style": "virtual",
    },
    "plain http": {"region_name": "eu-west-1", "use_ssl": False},
    "plain http virtual": {
        "region_name": "us-east-1",
        "use_ssl": False,
        "addressing_style": "virtual",
    },
    "custom endpoint (ip, path-style)": {"endpoint_url": "http://127.0.0.1:9000"},
    "custom endpoint virtual on an ip": {
        "endpoint_url": "http://127.0.0.1:9000",
        "addressing_style": "virtual",
    },
    "digitalocean": {"endpoint_url": "https://nyc3.digitaloceanspaces.com", "region_name": "nyc3"},
    "digitalocean virtual": {
        "endpoint_url": "https://nyc3.digitaloceanspaces.com/",
        "region_name": "nyc3",
        "addressing_style": "virtual",
    },
    "endpoint with path": {"endpoint_url": "https://gw.example.com:8443/s3", "region_name": "r1"},
    "endpoint with default port": {"endpoint_url": "https://gw.example.com:443/"},
    "endpoint on http default port": {"endpoint_url": "http://gw.example.com:80"},
    "ipv6 endpoint": {"endpoint_url": "http://[::1]:9000", "region_name": "eu-west-1"},
    "localhost virtual": {"endpoint_url": "http://localhost:9000", "addressing_style": "virtual"},
    "aws endpoint given": {
        "endpoint_url": "https://s3.eu-west-1.amazonaws.com",
        "region_name": "eu-west-1",
    },
    "uppercase bucket on endpoint": {
        "endpoint_url": "http://127.0.0.1:9000",
        "bucket_name": "My_Bucket",
    },
    "endpoint auto style": {"endpoint_url": "http://minio.local:9000", "addressing_style": "auto"},
    "endpoint path style": {"endpoint_url": "https://minio.example", "addressing_style": "path"},
    "client_config": {"client_config": Config(s3={"addressing_style": "path"}, connect_timeout=3)},
    "client_config sigv4": {
        "region_name": "eu-west-1",
        "client_config": Config(signature_version="s3v4", retries={"max_attempts": 2}),
    },
}


@pytest.mark.parametrize("keys_in", ["session", "options"])
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session token"])
@pytest.mark.parametrize("options", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_presigned_urls_are_byte_identical_to_botocore_and_made_without_it(
    frozen: Any, plain_environment: None, options: dict[str, Any], token: str | None, keys_in: str
) -> None:
    reference = stand_in(session=session(token), **options)
    storage = reference
    if keys_in == "options":  # no session is built, boto3 is not needed
        no_session = "client_config" not in options  # a user's Config: botocore is there
        keys = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "security_token": token}
        storage = stand_in(session=NoSession() if no_session else session(token), **keys, **options)
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(reference)
    for name in NAMES:
        for parameters in PARAMETER_SETS:
            expected = botocore_url(client, storage.bucket_name, name, parameters)
            assert builder.url(name, parameters) == expected, (name, parameters)
    assert not uses_botocore(builder), "a common configuration fell back to botocore"


def random_text(rng: random.Random, length: int) -> str:
    pools = [
        string.ascii_letters + string.digits,
        string.punctuation + " ",
        "äöüßéèñçøåÆŒ",
        "日本語中文한국어",
        "\U0001f600\U0001f680\u200d\ufeff",
        "/",
    ]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


@pytest.mark.parametrize(
    "options",
    [
        {"region_name": "eu-west-1"},
        {"endpoint_url": "http://127.0.0.1:9000"},
        {"region_name": "us-east-1", "addressing_style": "virtual", "querystring_auth": False},
    ],
)
def test_random_names_and_parameters_match_botocore(frozen: Any, options: dict[str, Any]) -> None:
    rng = random.Random(20261125)
    storage = stand_in(session=session(TOKEN), **options)
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage, signed=storage.querystring_auth)
    names = list(_QUERY_NAMES_FOR_FUZZ)
    for _ in range(400):
        key = random_text(rng, rng.randint(1, 60))
        parameters = {
            name: random_text(rng, rng.randint(0, 20))
            for name in rng.sample(names, rng.randint(0, len(names)))
        }
        method = rng.choice([None, "GET", "PUT", "delete"])
        expected = botocore_url(client, storage.bucket_name, key, parameters, 900, method)
        assert builder.url(key, parameters, 900, method) == expected, (key, parameters)
    assert not uses_botocore(builder)


_QUERY_NAMES_FOR_FUZZ = (
    "ResponseCacheControl",
    "ResponseContentDisposition",
    "ResponseContentEncoding",
    "ResponseContentLanguage",
    "ResponseContentType",
    "VersionId",
)


@pytest.mark.parametrize("http_method", ["PUT", "put", "DELETE", "HEAD", "GET"])
@pytest.mark.parametrize("expire", [1, 60, 604800, 0])
def test_http_method_and_expiry_are_signed_like_botocore(
    frozen: Any, http_method: str, expire: int
) -> None:
    storage = stand_in(region_name="eu-west-1", session=session(TOKEN))
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage)
    for name in ("upload.bin", "dir/ãlöhâ.jpg"):
        expected = botocore_url(client, storage.bucket_name, name, None, expire, http_method)
        assert builder.url(name, expire=expire, http_method=http_method) == expected


def test_querystring_expire_is_the_default_expiry(frozen: Any) -> None:
    storage = stand_in(querystring_expire=120)
    url = S3UrlBuilder.for_storage(storage).url("a.txt")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]
    assert url == botocore_url(botocore_client(storage), "media-bucket", "a.txt", expire=120)


def test_each_second_and_each_day_get_their_own_signature(frozen: Any) -> None:
    storage = stand_in(region_name="eu-west-1")
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage)
    seen = set()
    for epoch in (FROZEN, FROZEN + 1, FROZEN + 86_400, FROZEN + 86_401, FROZEN):
        frozen(epoch)
        url = builder.url("same.txt")
        assert url == botocore_url(client, "media-bucket", "same.txt")
        seen.add(url)
    assert len(seen) == 4


def test_signature_version_unset_means_sigv4_where_botocore_would_presign_sigv2(
    frozen: Any,
) -> None:
    storage = stand_in(region_name="us-east-1")
    url = S3UrlBuilder.for_storage(storage).url("a.txt")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    legacy = storage.session.client("s3", region_name="us-east-1")
    assert "AWSAccessKeyId=" in botocore_url(legacy, "media-bucket", "a.txt")


def test_threads_sharing_a_new_builder_get_the_same_urls(frozen: Any) -> None:
    storage = stand_in(region_name="eu-west-1", session=session(TOKEN))
    builder = S3UrlBuilder.for_storage(storage)
    names = [f"thread/{number} ä.txt" for number in range(200)]
    client = botocore_client(storage)
    expected = [botocore_url(client, "media-bucket", name) for name in names]
    barrier = threading.Barrier(8)
    results: list[list[str]] = []

    def work() -> None:
        barrier.wait()
        results.append([builder.url(name) for name in names])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 8


def test_hostile_names_cannot_grow_the_quoting_table_without_bound(frozen: Any) -> None:
    storage = stand_in(querystring_auth=False)
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage, signed=False)
    for code in range(0x4E00, 0x4E00 + 6000):  # 6,000 distinct CJK characters
        name = f"x{chr(code)}.txt"
        url = builder.url(name)
        if code % 500 == 0:
            assert url == botocore_url(client, "media-bucket", name)
    assert len(urls._quote_key) <= 4096


# -- configurations handed to botocore ----------------------------------------------------

FALLBACKS = {
    # botocore up to 1.40 sends this over http, 1.44 over https: whichever is installed says
    "endpoint ignores use_ssl": {"endpoint_url": "https://minio.example", "use_ssl": False},
    "sigv2": {"signature_version": "s3", "region_name": "us-east-1"},
    "sigv2 in client_config": {"client_config": Config(signature_version="s3")},
    "dual-stack": {"client_config": Config(s3={"use_dualstack_endpoint": True})},
    "accelerate": {"client_config": Config(s3={"use_accelerate_endpoint": True})},
    "fips": {"region_name": "us-east-2", "client_config": Config(use_fips_endpoint=True)},
    "us-east-1 regional": {
        "region_name": "us-east-1",
        "client_config": Config(s3={"us_east_1_regional_endpoint": "regional"}),
    },
    "china": {"region_name": "cn-north-1"},
    "govcloud": {"region_name": "us-gov-west-1"},
    "uppercase bucket on aws": {"bucket_name": "LegacyBucket", "region_name": "eu-west-1"},
    "underscore bucket": {"bucket_name": "legacy_bucket"},
    "dotted bucket over http": {"bucket_name": "a.b.c", "use_ssl": False},
    "virtual dotted bucket on endpoint": {
        "bucket_name": "a.b",
        "endpoint_url": "http://gw.example",
        "addressing_style": "virtual",
    },
    "endpoint with an uppercase host": {"endpoint_url": "http://GW.Example:9000"},
    "region in client_config": {"client_config": Config(region_name="eu-west-2")},
    "s3 express": {"bucket_name": "bucket--use1-az4--x-s3", "region_name": "us-east-1"},
}


@pytest.mark.parametrize("options", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_configurations_not_modelled_are_signed_by_botocore_exactly(
    frozen: Any, options: dict[str, Any]
) -> None:
    storage = stand_in(session=session(TOKEN), **options)
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage)
    for name in ("a.txt", "ãlöhâ/x y.jpg", "dir/"):
        parameters = {"ResponseContentType": "text/plain"}
        assert builder.url(name, parameters) == botocore_url(
            client, storage.bucket_name, name, parameters
        )
    assert uses_botocore(builder)


def test_parameters_not_modelled_are_signed_by_botocore(frozen: Any) -> None:
    storage = stand_in(region_name="eu-west-1")
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage)
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for parameters in (
        {"ResponseExpires": expires},
        {"Range": "bytes=0-9"},
        {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
        {"PartNumber": "2"},  # botocore rejects a string; so must we
    ):
        try:
            expected = botocore_url(client, "media-bucket", "a.txt", parameters)
        except ParamValidationError:
            with pytest.raises(ParamValidationError):
                builder.url("a.txt", parameters)
        else:
            assert builder.url("a.txt", parameters) == expected


def test_a_configuration_botocore_refuses_is_refused_the_same_way(frozen: Any) -> None:
    storage = stand_in(endpoint_url="http://gw.example/?x=1")
    with pytest.raises(EndpointResolutionError) as ours:
        S3UrlBuilder.for_storage(storage).url("a.txt")
    with pytest.raises(EndpointResolutionError) as theirs:
        botocore_url(botocore_client(storage), "media-bucket", "a.txt")
    assert str(ours.value) == str(theirs.value)


def test_an_empty_key_is_refused_like_botocore(frozen: Any) -> None:
    with pytest.raises(ParamValidationError):
        S3UrlBuilder.for_storage(stand_in()).url("")


def test_aws_config_file_endpoint_settings_are_respected(
    frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9999")
    storage = stand_in(region_name="eu-west-1")
    builder = S3UrlBuilder.for_storage(storage)
    url = builder.url("a.txt")
    assert url.startswith("http://127.0.0.1:9999/media-bucket/a.txt?")
    assert url == botocore_url(botocore_client(storage), "media-bucket", "a.txt")


def test_region_from_the_environment_is_used_when_none_is_configured(
    frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    storage = stand_in(addressing_style="virtual")
    url = S3UrlBuilder.for_storage(storage).url("a.txt")
    assert url.startswith("https://media-bucket.s3.eu-north-1.amazonaws.com/a.txt?")
    assert url == botocore_url(botocore_client(storage), "media-bucket", "a.txt")


@pytest.mark.parametrize(
    "outside",
    [
        {"file": "[default]\nregion = ap-southeast-2\n"},
        {"file": "[default]\ns3 =\n  addressing_style = path\n"},
        {"env": ("AWS_DEFAULT_REGION", "eu-north-1")},
        {"env": ("AWS_ENDPOINT_URL", "http://127.0.0.1:9999")},
    ],
    ids=["config file region", "config file s3 section", "region env", "endpoint env"],
)
def test_keys_in_the_options_still_honour_the_aws_config_outside_them(
    frozen: Any, plain_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
    outside: dict[str, Any],
) -> None:  # fmt: skip
    if "file" in outside:
        (tmp_path / ".aws").mkdir()
        (tmp_path / ".aws" / "config").write_text(outside["file"])
    else:
        monkeypatch.setenv(*outside["env"])
    keys = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
    storage = stand_in(**keys)
    url = S3UrlBuilder.for_storage(storage).url("a.txt")
    assert url == botocore_url(botocore_client(storage), "media-bucket", "a.txt")


def test_importing_the_package_and_making_urls_with_keys_does_not_import_boto3(
    tmp_path: Any,
) -> None:
    script = """
import sys
from django.conf import settings
settings.configure()
import storages_s3
storage = storages_s3.S3Storage(bucket_name="media-bucket", access_key="AKID", secret_key="s")
assert "X-Amz-Signature=" in storage.url("a.txt")
print(sorted(m for m in ("boto3", "botocore.session", "s3transfer") if m in sys.modules))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# -- credentials -------------------------------------------------------------------------


def test_missing_credentials_raise_like_botocore() -> None:
    anonymous = boto3.Session()
    anonymous._session._credentials = None
    anonymous._session.get_component("credential_provider").providers = []
    storage = stand_in(session=anonymous)
    with pytest.raises(NoCredentialsError):
        S3UrlBuilder.for_storage(storage).url("a.txt")


def test_temporary_credentials_keep_refreshing(
    frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sigv4, "_REFRESHABLE_REUSE_SECONDS", 0.0)
    clock = {"now": datetime(2026, 11, 1, tzinfo=timezone.utc)}
    issued = []

    def issue() -> dict[str, str]:
        number = len(issued)
        issued.append(number)
        expiry = clock["now"] + timedelta(hours=1)
        return {
            "access_key": f"ASIATEMP{number:08d}",
            "secret_key": f"secret-{number}",
            "token": f"token-{number}",
            "expiry_time": expiry.isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(issue(), issue, "assume-role")
    credentials._time_fetcher = lambda: clock["now"]
    temporary = boto3.Session()
    temporary._session._credentials = credentials
    storage = stand_in(session=temporary, region_name="eu-west-1")
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage)

    first = builder.url("a.txt")
    assert "ASIATEMP00000000" in first
    assert "token-0" in first
    clock["now"] += timedelta(hours=2)  # the role session has expired
    second = builder.url("a.txt")
    assert "ASIATEMP00000001" in second
    assert "token-1" in second
    assert second == botocore_url(client, "media-bucket", "a.txt")


# -- unsigned URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"region_name": "eu-west-1"},
        {"region_name": "eu-west-1", "addressing_style": "virtual"},
        {"region_name": "eu-west-1", "addressing_style": "path"},
        {"endpoint_url": "http://127.0.0.1:9000"},
        {"bucket_name": "a.b.c", "region_name": "eu-west-1"},
        {"signature_version": "s3"},
        {"client_config": Config(signature_version=botocore.UNSIGNED)},
    ],
)
def test_unsigned_urls_match_botocore(options: dict[str, Any]) -> None:
    storage = stand_in(querystring_auth=False, **options)
    builder = S3UrlBuilder.for_storage(storage)
    client = botocore_client(storage, signed=False)
    for name in NAMES:
        for parameters in PARAMETER_SETS:
            expected = botocore_url(client, storage.bucket_name, name, parameters)
            assert builder.url(name, parameters) == expected
    assert not uses_botocore(builder)


def test_unsigned_urls_carry_no_credentials() -> None:
    url = S3UrlBuilder.for_storage(stand_in(querystring_auth=False)).url("a b.txt")
    assert url == "https://media-bucket.s3.amazonaws.com/a%20b.txt"


# -- custom domain and CloudFront --------------------------------------------------------


def test_custom_domain_urls_are_plain_strings_like_django_storages() -> None:
    builder = S3UrlBuilder.for_storage(stand_in(custom_domain="cdn.example.com"))
    assert (
        builder.url("media/ãlöhâ.jpg") == "https://cdn.example.com/media/%C3%A3l%C3%B6h%C3%A2.jpg"
    )
    assert builder.url("dir/") == "https://cdn.example.com/dir/"
    assert builder.url("a b+c~!*()'.txt") == "https://cdn.example.com/a%20b%2Bc~!*()'.txt"
    assert (
        builder.url("a.txt", {"v": "1 2", "x": "ä"})
        == "https://cdn.example.com/a.txt?v=1+2&x=%C3%A4"
    )


def test_custom_domain_honours_url_protocol_and_ignores_querystring_auth_without_signer() -> None:
    builder = S3UrlBuilder.for_storage(
        stand_in(custom_domain="static.example.org", url_protocol="http:", querystring_auth=True)
    )
    assert builder.url("css/site.css") == "http://static.example.org/css/site.css"
    default = S3UrlBuilder.for_storage(stand_in(custom_domain="x.example", url_protocol=None))
    assert default.url("a") == "https://x.example/a"


def cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


@pytest.mark.parametrize("parameters", [None, {"w": "100", "label": "a b"}])
def test_cloudfront_urls_verify_with_the_public_key_and_match_botocore(
    frozen: Any, rsa_key: rsa.RSAPrivateKey, pem: bytes, parameters: dict[str, str] | None
) -> None:
    storage = stand_in(
        custom_domain="d111111abcdef8.cloudfront.net",
        cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_key=pem,
    )
    url = S3UrlBuilder.for_storage(storage).url("media/ãlöhâ.jpg", parameters, expire=600)

    fields = parse_qs(url.split("?", 1)[1])
    assert fields["Expires"] == [str(FROZEN + 600)]
    assert fields["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    base = "https://d111111abcdef8.cloudfront.net/media/%C3%A3l%C3%B6h%C3%A2.jpg"
    if parameters:
        base += "?w=100&label=a+b"
    assert url.startswith(base + ("&" if parameters else "?") + "Expires=")
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": base, "Condition": {"DateLessThan": {"AWS:EpochTime": FROZEN + 600}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    signature = cloudfront_b64decode(fields["Signature"][0])
    rsa_key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())

    reference = BotocoreCloudFrontSigner(
        "K2JCJMDEHXQW5F", lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA1())
    )
    expected = reference.generate_presigned_url(
        base, date_less_than=datetime.fromtimestamp(FROZEN + 600, timezone.utc).replace(tzinfo=None)
    )
    assert url == expected


def test_cloudfront_expiry_defaults_to_querystring_expire(frozen: Any, pem: bytes) -> None:
    storage = stand_in(
        custom_domain="cdn.example",
        cloudfront_key_id="KID",
        cloudfront_key=pem.decode(),
        querystring_expire=90,
    )
    url = S3UrlBuilder.for_storage(storage).url("a.txt")
    assert f"Expires={FROZEN + 90}&" in url


def test_cloudfront_key_is_parsed_once_for_many_urls_and_storages(frozen: Any, pem: bytes) -> None:
    cloudfront.load_private_key.cache_clear()
    for _ in range(3):
        builder = S3UrlBuilder.for_storage(
            stand_in(custom_domain="cdn.example", cloudfront_key_id="KID", cloudfront_key=pem)
        )
        for number in range(20):
            builder.url(f"img/{number}.jpg")
    assert cloudfront.load_private_key.cache_info().misses == 1


def test_cloudfront_signing_needs_querystring_auth(pem: bytes) -> None:
    storage = stand_in(
        custom_domain="cdn.example",
        cloudfront_key_id="KID",
        cloudfront_key=pem,
        querystring_auth=False,
    )
    assert S3UrlBuilder.for_storage(storage).url("a.txt") == "https://cdn.example/a.txt"


def test_a_signer_object_given_by_the_user_is_used(frozen: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    signer = BotocoreCloudFrontSigner(
        "USERKEY", lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA1())
    )
    storage = stand_in(custom_domain="cdn.example", cloudfront_signer=signer)
    url = S3UrlBuilder.for_storage(storage).url("a.txt", expire=30)
    assert url.startswith("https://cdn.example/a.txt?Expires=")
    assert url.endswith("&Key-Pair-Id=USERKEY")


# -- no network --------------------------------------------------------------------------


def test_no_kind_of_url_touches_the_network(frozen: Any, pem: bytes, no_network: list[Any]) -> None:
    kinds = [
        stand_in(),
        stand_in(querystring_auth=False),
        stand_in(custom_domain="cdn.example"),
        stand_in(custom_domain="cdn.example", cloudfront_key_id="KID", cloudfront_key=pem),
        stand_in(signature_version="s3"),  # botocore's path
        stand_in(endpoint_url="http://127.0.0.1:1", region_name="eu-west-1"),
    ]
    for storage in kinds:
        builder = S3UrlBuilder.for_storage(storage)
        for name in NAMES[:5]:
            builder.url(name, {"ResponseContentType": "text/plain"})
    assert no_network == []


def test_storage_url_makes_no_request(
    moto: S3Server, moto_bucket: str, no_network: list[Any]
) -> None:
    storage = moto.storage(moto_bucket)
    since = moto.mark() if moto.log is not None else 0
    for number in range(50):
        storage.url(f"file-{number}.txt")
    assert no_network == []
    if moto.log is not None:
        assert moto.requests(since) == []


# -- real servers ------------------------------------------------------------------------

LIVE_NAMES = ["plain.txt", "ãlöhâ.jpg", "sub dir/a+b~c.txt", "x/y/z!*'()$.bin", "dir/"]


def put_objects(server: S3Server, bucket: str, acl: str | None = None) -> dict[str, bytes]:
    client = server.client()
    bodies = {}
    for number, name in enumerate(LIVE_NAMES):
        body = f"body {number} of {name}".encode()
        extra = {"ACL": acl} if acl else {}
        client.put_object(Bucket=bucket, Key=name, Body=body, **extra)
        bodies[name] = body
    return bodies


def test_presigned_urls_fetch_the_right_bytes_from_moto(moto: S3Server, moto_bucket: str) -> None:
    bodies = put_objects(moto, moto_bucket)
    storage = moto.storage(moto_bucket)
    for name, body in bodies.items():
        status, content, _ = fetch(storage.url(name))
        assert (status, content) == (200, body)
    status, _, headers = fetch(
        storage.url("plain.txt", parameters={"ResponseContentDisposition": "attachment; x.txt"})
    )
    assert status == 200
    assert headers["Content-Disposition"] == "attachment; x.txt"


def test_a_presigned_put_url_uploads(moto: S3Server, moto_bucket: str) -> None:
    storage = moto.storage(moto_bucket)
    status, _, _ = fetch(storage.url("up/loaded.txt", http_method="PUT"), "PUT", b"uploaded!")
    assert status == 200
    with storage.open("up/loaded.txt", "rb") as handle:
        assert handle.read() == b"uploaded!"


def test_storage_urls_are_byte_identical_to_botocore(
    frozen: Any, moto: S3Server, moto_bucket: str
) -> None:
    """Signed at the start of the reuse window (the default: 900 s for 3600 s URLs), as
    botocore signs at that instant."""
    storage = moto.storage(moto_bucket, location="media")
    client = botocore_client(storage)
    names = ("a.txt", "ãlöhâ.jpg", "dir/", "x y/z+w.txt")
    frozen(FROZEN - FROZEN % 900)
    expected = [botocore_url(client, moto_bucket, f"media/{name}") for name in names]
    frozen(FROZEN)
    assert FROZEN % 900  # mid-window
    assert [storage.url(name) for name in names] == expected
    assert storage.url("ãlöhâ.jpg").split("?")[0].endswith("/media/%C3%A3l%C3%B6h%C3%A2.jpg")


def test_virtual_hosted_urls_reach_the_objects(moto: S3Server, moto_bucket: str) -> None:
    """``{bucket}.localhost`` does not resolve here: connect to loopback, send its Host."""
    bodies = put_objects(moto, moto_bucket)
    port = urlsplit(moto.endpoint).port
    storage = S3Storage(
        bucket_name=moto_bucket,
        endpoint_url=f"http://localhost:{port}",
        addressing_style="virtual",
        region_name="us-east-1",
        access_key=moto.access_key,
        secret_key=moto.secret_key,
    )
    for name, body in bodies.items():
        url = urlsplit(storage.url(name))
        assert url.netloc == f"{moto_bucket}.localhost:{port}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", f"{url.path}?{url.query}", headers={"Host": url.netloc})
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, body)
        finally:
            connection.close()


def test_unsigned_urls_reach_public_objects_and_not_private_ones(
    moto: S3Server, moto_bucket: str
) -> None:
    bodies = put_objects(moto, moto_bucket, acl="public-read")
    moto.client().put_object(Bucket=moto_bucket, Key="private.txt", Body=b"secret")
    storage = moto.storage(moto_bucket, cls=S3StaticStorage)
    for name, body in bodies.items():
        url = storage.url(name)
        assert "X-Amz" not in url
        assert fetch(url)[:2] == (200, body)
    assert fetch(storage.url("private.txt"))[0] == 403


def test_custom_domain_urls_reach_the_objects(moto: S3Server, moto_bucket: str) -> None:
    bodies = put_objects(moto, moto_bucket, acl="public-read")
    domain = f"{urlsplit(moto.endpoint).netloc}/{moto_bucket}"
    storage = moto.storage(moto_bucket, custom_domain=domain, url_protocol="http:")
    for name, body in bodies.items():
        assert fetch(storage.url(name))[:2] == (200, body)


def test_s3rver_refuses_an_expired_url_and_accepts_a_fresh_one(
    s3rver: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3rver.new_bucket()
    s3rver.client().put_object(Bucket=bucket, Key="ãlöhâ.jpg", Body=b"fresh")
    storage = s3rver.storage(bucket)

    monkeypatch.setattr(urls, "_now", lambda: datetime.now(timezone.utc).timestamp() - 120)
    status, body, _ = fetch(storage.url("ãlöhâ.jpg", expire=60))
    assert status == 403
    assert b"expired" in body

    monkeypatch.setattr(urls, "_now", lambda: datetime.now(timezone.utc).timestamp())
    assert fetch(storage.url("ãlöhâ.jpg", expire=60))[:2] == (200, b"fresh")


def test_trailing_slash_and_location_survive_storage_url(moto: S3Server, moto_bucket: str) -> None:
    storage = moto.storage(moto_bucket, location="static", custom_domain="cdn.example")
    assert storage.url("css/") == "https://cdn.example/static/css/"
    assert storage.url("ãlöhâ.jpg") == "https://cdn.example/static/%C3%A3l%C3%B6h%C3%A2.jpg"


def test_a_new_storage_builds_no_botocore_client_for_its_urls(
    moto: S3Server, moto_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = moto.storage(moto_bucket)
    made: list[Any] = []
    original = boto3.Session.client
    monkeypatch.setattr(
        boto3.Session, "client", lambda *a, **k: made.append(a) or original(*a, **k)
    )
    storage.url("a.txt")
    storage.url("b.txt", parameters={"ResponseContentType": "text/plain"})
    assert made == []


def test_url_takes_django_storages_arguments_positionally(frozen: Any) -> None:
    """django-storages' ``url(name, parameters=None, expire=None, http_method=None)``."""
    storage = S3Storage(
        bucket_name="media-bucket",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region_name="eu-west-1",
    )
    parameters = {"ResponseContentDisposition": "attachment"}
    assert storage.url("a.txt", parameters) == storage.url("a.txt", parameters=parameters)
    assert storage.url("a.txt", parameters, 60) == storage.url(
        "a.txt", parameters=parameters, expire=60
    )
    positional = storage.url("a.txt", parameters, 60, "PUT")
    assert positional == storage.url("a.txt", parameters=parameters, expire=60, http_method="PUT")
    assert "X-Amz-Expires=60" in positional
