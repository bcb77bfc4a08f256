"""Options: django-storages' names, settings and defaults; the client they build."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_s3 import S3Boto3Storage, S3ManifestStaticStorage, S3StaticStorage, S3Storage
from storages_s3.client import is_aws_endpoint
from storages_s3.options import S3_OPTIONS

from .conftest import S3Server

BUCKET = {"bucket_name": "options-bucket"}


# -- precedence: OPTIONS > class attribute > setting > env > default ----------------------


@override_settings(AWS_LOCATION="from-setting", AWS_STORAGE_BUCKET_NAME="b")
def test_a_setting_configures_the_storage() -> None:
    assert S3Storage().location == "from-setting"


@override_settings(AWS_LOCATION="from-setting", AWS_STORAGE_BUCKET_NAME="b")
def test_a_class_attribute_beats_the_setting() -> None:
    class Media(S3Storage):
        location = "from-class"

    assert Media().location == "from-class"


@override_settings(AWS_LOCATION="from-setting", AWS_STORAGE_BUCKET_NAME="b")
def test_an_option_beats_the_class_attribute() -> None:
    class Media(S3Storage):
        location = "from-class"

    assert Media(location="from-option").location == "from-option"


def test_every_default_is_django_storages_default() -> None:
    storage = S3Storage(**BUCKET)
    expected = {
        "access_key": None,
        "secret_key": None,
        "security_token": None,
        "session_profile": None,
        "location": "",
        "file_overwrite": True,
        "object_parameters": {},
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 3600,
        "signature_version": None,
        "addressing_style": None,
        "proxies": None,
        "client_config": None,
        "transfer_config": None,
        "use_threads": True,
        "custom_domain": None,
        "url_protocol": "https:",
        "cloudfront_key_id": None,
        "cloudfront_key": None,
        "cloudfront_signer": None,
        "endpoint_url": None,
        "region_name": None,
        "use_ssl": True,
        "verify": None,
        "gzip": False,
        "max_memory_size": 0,
        "file_name_charset": "utf-8",
        "file_buffer_size": 5242880,
        "default_content_type": "application/octet-stream",
    }
    assert {name: getattr(storage, name) for name in expected} == expected
    assert "text/css" in storage.gzip_content_types


@pytest.mark.parametrize(
    ("setting", "option", "value"),
    [
        ("AWS_STORAGE_BUCKET_NAME", "bucket_name", "bkt"),
        ("AWS_S3_FILE_OVERWRITE", "file_overwrite", False),
        ("AWS_S3_OBJECT_PARAMETERS", "object_parameters", {"CacheControl": "max-age=1"}),
        ("AWS_DEFAULT_ACL", "default_acl", "public-read"),
        ("AWS_QUERYSTRING_AUTH", "querystring_auth", False),
        ("AWS_QUERYSTRING_EXPIRE", "querystring_expire", 60),
        ("AWS_S3_SIGNATURE_VERSION", "signature_version", "s3v4"),
        ("AWS_S3_ADDRESSING_STYLE", "addressing_style", "path"),
        ("AWS_S3_PROXIES", "proxies", {"https": "127.0.0.1:3128"}),
        ("AWS_S3_CUSTOM_DOMAIN", "custom_domain", "cdn.example.com"),
        ("AWS_S3_URL_PROTOCOL", "url_protocol", "http:"),
        ("AWS_S3_ENDPOINT_URL", "endpoint_url", "http://127.0.0.1:9000"),
        ("AWS_S3_REGION_NAME", "region_name", "eu-west-1"),
        ("AWS_S3_USE_SSL", "use_ssl", False),
        ("AWS_S3_VERIFY", "verify", False),
        ("AWS_IS_GZIPPED", "gzip", True),
        ("GZIP_CONTENT_TYPES", "gzip_content_types", ("text/plain",)),
        ("AWS_S3_MAX_MEMORY_SIZE", "max_memory_size", 1024),
        ("AWS_S3_FILE_BUFFER_SIZE", "file_buffer_size", 8 * 1024 * 1024),
        ("AWS_S3_USE_THREADS", "use_threads", False),
        ("AWS_S3_SESSION_PROFILE", "session_profile", "prod"),
        ("AWS_SESSION_TOKEN", "security_token", "tok"),
    ],
)
def test_each_django_storages_setting_sets_its_option(
    setting: str, option: str, value: object
) -> None:
    overrides = {"AWS_STORAGE_BUCKET_NAME": "b", setting: value}
    with override_settings(**overrides):
        assert getattr(S3Storage(), option) == value


def test_s3_specific_key_settings_win_over_the_generic_ones() -> None:
    with override_settings(
        AWS_S3_ACCESS_KEY_ID="s3-id",
        AWS_ACCESS_KEY_ID="generic-id",
        AWS_SECRET_ACCESS_KEY="generic-secret",
    ):
        storage = S3Storage(**BUCKET)
    assert storage.access_key == "s3-id"
    assert storage.secret_key == "generic-secret"


def test_keys_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_S3_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("AWS_S3_SECRET_ACCESS_KEY", "env-secret")
    storage = S3Storage(**BUCKET)
    assert (storage.access_key, storage.secret_key) == ("env-id", "env-secret")
    credentials = storage.session.get_credentials()
    assert (credentials.access_key, credentials.method) == ("env-id", "explicit")


def test_an_unknown_option_names_the_right_one() -> None:
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'bucket_name'"):
        S3Storage(AWS_STORAGE_BUCKET_NAME="b")
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'querystring_auth'"):
        S3Storage(querystring_aut=False, **BUCKET)


def test_the_cloudfront_pair_settings_set_their_options() -> None:
    with override_settings(AWS_CLOUDFRONT_KEY_ID="APK123", AWS_CLOUDFRONT_KEY=b"pem"):
        storage = S3Storage(**BUCKET)
    assert (storage.cloudfront_key_id, storage.cloudfront_key) == ("APK123", b"pem")


def test_a_location_starting_with_a_slash_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured):
        S3Storage(location="/media", **BUCKET)


def test_secrets_stay_out_of_repr_and_deconstruct() -> None:
    storage = S3Storage(access_key="AKIDVISIBLE", secret_key="s3cr3t-value", **BUCKET)
    _path, _args, kwargs = storage.deconstruct()

    assert "s3cr3t-value" not in repr(storage)
    assert "secret_key" not in kwargs
    assert kwargs == BUCKET


def test_static_storages_default_to_unsigned_urls() -> None:
    assert S3StaticStorage(**BUCKET).querystring_auth is False
    assert S3ManifestStaticStorage.querystring_auth is False  # built in test_static.py
    assert S3StaticStorage(querystring_auth=True, **BUCKET).querystring_auth is True


def test_the_classic_django_storages_names_still_import() -> None:
    from storages_s3 import s3boto3

    assert s3boto3.S3Boto3Storage is S3Storage
    assert S3Boto3Storage is S3Storage
    assert s3boto3.S3StaticStorage is S3StaticStorage
    assert s3boto3.S3ManifestStaticStorage is S3ManifestStaticStorage


def test_the_readme_settings_table_is_generated_from_the_options() -> None:
    # STORAGES_UPDATE_README=1 rewrites the table from the options table.
    path = Path(__file__).parents[1] / "README.md"
    start, end = "<!-- settings table: generated, do not edit by hand -->\n", "<!-- end of"
    readme = path.read_text()
    head, rest = readme.split(start)
    table, tail = rest.split(end, 1)
    if os.environ.get("STORAGES_UPDATE_README") == "1":
        path.write_text(head + start + S3_OPTIONS.markdown() + end + tail)
        table = S3_OPTIONS.markdown()
    assert table == S3_OPTIONS.markdown()


# -- credentials: explicit keys are used, the rest is left to boto3's chain ---------------


def test_explicit_keys_build_a_session_with_those_keys() -> None:
    storage = S3Storage(access_key="AKID", secret_key="secret", security_token="tok", **BUCKET)
    credentials = storage.session.get_credentials()
    assert (credentials.access_key, credentials.token, credentials.method) == (
        "AKID",
        "tok",
        "explicit",
    )


def test_keys_only_in_boto3s_environment_are_left_to_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Freezing them into the session would stop temporary credentials from refreshing.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    storage = S3Storage(**BUCKET)
    credentials = storage.session.get_credentials()
    assert credentials.access_key == "env-id"
    assert credentials.method == "env"


def test_a_session_profile_is_read_from_the_aws_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text(
        "[media]\naws_access_key_id = PROFILEID\naws_secret_access_key = x\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    storage = S3Storage(session_profile="media", **BUCKET)
    assert storage.session.get_credentials().access_key == "PROFILEID"


def test_a_profile_together_with_keys_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="session_profile"):
        S3Storage(session_profile="p", access_key="a", secret_key="b", **BUCKET)


# -- the client ---------------------------------------------------------------------------


def client_of(**options: object) -> object:
    storage = S3Storage(
        access_key="a", secret_key="b", region_name="us-east-1", **BUCKET, **options
    )
    return storage.client


def test_connection_options_reach_the_client() -> None:
    client = client_of(
        endpoint_url="http://127.0.0.1:9",
        addressing_style="path",
        signature_version="s3v4",
        proxies={"https": "127.0.0.1:3128"},
    )
    config = client.meta.config  # type: ignore[attr-defined]
    assert client.meta.endpoint_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    assert config.s3 == {"addressing_style": "path"}
    assert config.signature_version == "s3v4"
    assert config.proxies == {"https": "127.0.0.1:3128"}


def test_a_client_config_replaces_the_separate_options() -> None:
    client = client_of(
        client_config=Config(s3={"addressing_style": "virtual"}, max_pool_connections=50),
        addressing_style="path",
    )
    config = client.meta.config  # type: ignore[attr-defined]
    assert config.s3 == {"addressing_style": "virtual"}
    assert config.max_pool_connections == 50


def test_use_ssl_false_talks_plain_http_to_aws() -> None:
    client = client_of(use_ssl=False)
    assert client.meta.endpoint_url.startswith("http://")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("endpoint", "aws"),
    [
        (None, True),
        ("https://s3.eu-west-1.amazonaws.com", True),
        ("https://bucket.s3.dualstack.us-east-1.amazonaws.com", True),
        ("https://nyc3.digitaloceanspaces.com", False),
        ("https://acct.r2.cloudflarestorage.com", False),
        ("http://127.0.0.1:9000", False),
        ("https://amazonaws.com.evil.example", False),
    ],
)
def test_aws_endpoints_are_told_from_s3_compatible_ones(endpoint: str | None, aws: bool) -> None:
    assert is_aws_endpoint(endpoint) is aws


def test_a_non_aws_endpoint_sends_checksums_only_when_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_REQUEST_CHECKSUM_CALCULATION", raising=False)
    monkeypatch.delenv("AWS_RESPONSE_CHECKSUM_VALIDATION", raising=False)
    compatible = client_of(endpoint_url="https://nyc3.digitaloceanspaces.com").meta.config  # type: ignore[attr-defined]
    aws = client_of().meta.config  # type: ignore[attr-defined]
    chosen = client_of(
        endpoint_url="https://nyc3.digitaloceanspaces.com",
        client_config=Config(request_checksum_calculation="when_supported"),
    ).meta.config  # type: ignore[attr-defined]

    assert compatible.request_checksum_calculation == "when_required"
    assert compatible.response_checksum_validation == "when_required"
    assert aws.request_checksum_calculation != "when_required"
    assert chosen.request_checksum_calculation == "when_supported"
    assert chosen.response_checksum_validation == "when_required"


def test_an_upload_to_a_non_aws_endpoint_carries_no_optional_checksum(
    moto_counted: S3Server,
) -> None:
    storage = moto_counted.storage(moto_counted.new_bucket())
    start = moto_counted.mark()
    storage.save("a.txt", ContentFile(b"hello"))
    headers = moto_counted.requests(start)[0].headers

    assert not [h for h in headers if h.startswith(("x-amz-checksum", "x-amz-sdk-checksum"))]
    assert "aws-chunked" not in headers.get("content-encoding", "")


def test_a_transfer_config_sets_the_part_size(moto_counted: S3Server) -> None:
    storage = moto_counted.storage(
        moto_counted.new_bucket(),
        transfer_config=TransferConfig(multipart_chunksize=6 * 1024 * 1024, use_threads=False),
    )
    start = moto_counted.mark()
    storage.save("a.bin", ContentFile(b"x" * (13 * 1024 * 1024)))
    parts = [r for r in moto_counted.requests(start) if "partNumber" in r.query]
    assert len(parts) == 3  # 6 + 6 + 1 MiB


def test_a_small_file_buffer_size_still_makes_valid_parts(moto: S3Server) -> None:
    storage = moto.storage(moto.new_bucket(), file_buffer_size=1024)
    storage.save("a.bin", ContentFile(b"y" * (6 * 1024 * 1024)))  # S3's minimum part is 5 MiB
    assert storage.size("a.bin") == 6 * 1024 * 1024


def test_default_acl_applies_unless_object_parameters_set_one(moto: S3Server) -> None:
    bucket = moto.new_bucket()
    public = moto.storage(bucket, default_acl="public-read")
    private = moto.storage(bucket, default_acl="public-read", object_parameters={"ACL": "private"})
    public.save("public.txt", ContentFile(b"x"))
    private.save("private.txt", ContentFile(b"x"))

    def all_users_can_read(key: str) -> bool:
        grants = moto.client().get_object_acl(Bucket=bucket, Key=key)["Grants"]
        return any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants)

    assert all_users_can_read("public.txt")
    assert not all_users_can_read("private.txt")


def test_the_deprecated_config_class_attribute_still_configures_the_client() -> None:
    class Legacy(S3Storage):
        config = Config(max_pool_connections=33)

    storage = Legacy(access_key="a", secret_key="b", region_name="us-east-1", **BUCKET)
    assert storage.client.meta.config.max_pool_connections == 33


def test_one_storage_builds_one_client_for_all_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    storage = S3Storage(access_key="a", secret_key="b", region_name="us-east-1", **BUCKET)
    with ThreadPoolExecutor(8) as pool:
        clients = set(pool.map(lambda _: id(storage.client), range(32)))
    assert len(clients) == 1


@pytest.mark.parametrize("cls", [S3Storage, S3StaticStorage])
def test_migrations_record_the_public_path(cls: type[S3Storage]) -> None:
    """``storages_s3.S3Storage``, not ``storages_s3.storage.S3Storage`` (an internal module)."""
    from django.db.migrations.serializer import serializer_factory

    from storages_base.storage import public_path

    assert public_path(S3ManifestStaticStorage) == "storages_s3.S3ManifestStaticStorage"
    assert public_path(S3Boto3Storage) == "storages_s3.S3Storage"

    storage = cls(bucket_name="b", location="media")
    assert storage.deconstruct() == (
        f"storages_s3.{cls.__name__}",
        (),
        {"bucket_name": "b", "location": "media"},
    )
    text, imports = serializer_factory(storage).serialize()
    assert text == f"storages_s3.{cls.__name__}(bucket_name='b', location='media')"
    assert imports == {"import storages_s3"}


def test_no_bucket_name_builds_and_the_first_operation_raises() -> None:
    """django-storages' timing: ``FileField(storage=MediaStorage())`` imports in a build or
    test environment without AWS settings; the first operation says what to set."""
    with override_settings(AWS_STORAGE_BUCKET_NAME=None):
        storage = S3Storage()
    for operation in (
        lambda: storage.exists("a.txt"),
        lambda: storage.save("a.txt", ContentFile(b"x")),
        lambda: storage.open("a.txt"),
        lambda: storage.url("a.txt"),
        lambda: storage.listdir(""),
    ):
        with pytest.raises(ImproperlyConfigured, match="no bucket_name: set AWS_STORAGE_BUCKET"):
            operation()
    assert "client" not in vars(storage)  # refused before any SDK client was built


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"cloudfront_key": b"-----BEGIN RSA PRIVATE KEY-----"}, "cloudfront_key_id"),
        ({"cloudfront_key_id": "K2JCJMDEHXQW5F"}, "cloudfront_key"),
    ],
)
def test_half_a_cloudfront_key_pair_is_refused_at_construction(
    given: dict[str, Any], missing: str
) -> None:
    """As django-storages refuses it, instead of unsigned URLs outside ``manage.py check``."""
    with pytest.raises(ImproperlyConfigured, match=f"but {missing} is not"):
        S3Storage(**BUCKET, custom_domain="cdn.example.com", **given)
    setting = {"AWS_CLOUDFRONT_KEY_ID": "K2JCJMDEHXQW5F", "AWS_CLOUDFRONT_KEY": None}
    with override_settings(**setting), pytest.raises(ImproperlyConfigured):
        S3Storage(**BUCKET)


def test_session_profile_with_keys_is_refused_at_construction() -> None:
    with pytest.raises(ImproperlyConfigured, match="either session_profile or access_key"):
        S3Storage(**BUCKET, session_profile="dev", access_key="AKIA", secret_key="s")


def test_a_field_whose_storage_has_sdk_configs_can_be_written_into_a_migration() -> None:
    """``makemigrations`` writes ``FileField(storage=...)`` with the storage's arguments;
    botocore's ``Config`` and boto3's ``TransferConfig`` among them made it fail."""
    from django.db import models
    from django.db.migrations.writer import MigrationWriter

    storage = S3Storage(
        **BUCKET,
        access_key="AKIAEXAMPLE",
        secret_key="not-written",
        client_config=Config(retries={"max_attempts": 7}, max_pool_connections=20),
        transfer_config=TransferConfig(multipart_chunksize=16 * 1024 * 1024, use_threads=False),
    )
    text, imports = MigrationWriter.serialize(models.FileField(storage=storage))
    assert "not-written" not in text
    assert "AKIAEXAMPLE" not in text
    namespace: dict[str, Any] = {}
    exec("\n".join(sorted(imports)), namespace)
    rebuilt = eval(text, namespace).storage
    assert type(rebuilt) is S3Storage
    assert rebuilt.bucket_name == BUCKET["bucket_name"]
    assert rebuilt.client_config.retries == {"max_attempts": 7}
    assert rebuilt.client_config.max_pool_connections == 20
    assert rebuilt.transfer_config.multipart_chunksize == 16 * 1024 * 1024
    assert rebuilt.transfer_config.use_threads is False
    assert rebuilt.transfer_config.max_concurrency == TransferConfig().max_concurrency
