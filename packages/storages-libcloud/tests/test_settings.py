"""The seed's settings work as documented, and every mistake gets a clear message."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_libcloud import LibCloudStorage
from storages_libcloud.client import resolve_type

from .conftest import Driver

#: The seed's example, as a user pastes it (no request is made building these).
SEED_PROVIDERS = {
    "amazon_1": {
        "type": "libcloud.storage.types.Provider.S3_US_STANDARD_HOST",
        "user": "<your username here>",
        "key": "<your key here>",
        "bucket": "bucket-1",
    },
    "amazon_2": {
        "type": "libcloud.storage.types.Provider.S3_US_STANDARD_HOST",
        "user": "<your username here>",
        "key": "<your key here>",
        "bucket": "bucket-2",
    },
    "google": {
        "type": "libcloud.storage.types.Provider.GOOGLE_STORAGE",
        "user": "GOOG0123456789ABCXYZ",  # "Your Google APIv1 username (20 characters)"
        "key": "<Your Google APIv1 Key>",
        "bucket": "bucket-3",
    },
}


@override_settings(LIBCLOUD_PROVIDERS=SEED_PROVIDERS)
def test_the_seeds_providers_build_by_name_without_a_request() -> None:
    store = LibCloudStorage("amazon_1")
    assert store.bucket == "bucket-1"
    assert type(store.driver).__name__ == "S3StorageDriver"
    assert LibCloudStorage("amazon_2").bucket == "bucket-2"
    assert type(LibCloudStorage("google").driver).__name__ == "GoogleStorageDriver"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("libcloud.storage.types.Provider.S3", "s3"),
        ("libcloud.storage.types.Provider.S3_US_STANDARD_HOST", "s3"),
        ("libcloud.storage.types.Provider.S3_EU_WEST_HOST", "s3_eu_west"),
        ("libcloud.storage.types.Provider.S3_US_WEST_OREGON_HOST", "s3_us_west_oregon"),
        ("libcloud.storage.types.Provider.CLOUDFIULES_UK", "cloudfiles"),
        ("libcloud.storage.types.Provider.NIMBUS", "nimbus"),
        ("libcloud.storage.types.Provider.NINEFOLD", "ninefold"),
        ("AZURE_BLOBS", "azure_blobs"),
        ("local", "local"),
    ],
)
def test_a_type_is_a_dotted_path_a_constant_name_or_its_value(given: str, expected: str) -> None:
    assert resolve_type(given, "p") == expected


def test_the_enum_value_itself_is_accepted() -> None:
    from libcloud.storage.types import Provider

    assert resolve_type(Provider.MINIO, "p") == "minio"


@override_settings(
    LIBCLOUD_PROVIDERS={"default": {**SEED_PROVIDERS["amazon_1"], "bucket": "the-default"}}
)
def test_without_a_name_the_provider_named_default_is_used() -> None:
    assert LibCloudStorage().bucket == "the-default"


@override_settings(LIBCLOUD_PROVIDERS=SEED_PROVIDERS, DEFAULT_LIBCLOUD_PROVIDER="amazon_2")
def test_default_libcloud_provider_chooses_the_provider() -> None:
    assert LibCloudStorage().bucket == "bucket-2"


@override_settings(LIBCLOUD_PROVIDERS=SEED_PROVIDERS)
def test_an_unknown_provider_name_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"No libcloud provider named 'amazon-1'.*"):
        LibCloudStorage("amazon-1")


@override_settings(LIBCLOUD_PROVIDERS=SEED_PROVIDERS)
def test_a_missing_default_provider_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_LIBCLOUD_PROVIDER"):
        LibCloudStorage()


def test_no_providers_at_all_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="LIBCLOUD_PROVIDERS is not set"):
        LibCloudStorage()


@override_settings(LIBCLOUD_PROVIDERS={"x": {"type": "Provider.NOPE", "bucket": "b"}})
def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="not a libcloud storage provider"):
        LibCloudStorage("x")


@override_settings(LIBCLOUD_PROVIDERS={"x": {"type": "S3", "user": "u", "key": "k"}})
def test_a_provider_without_a_bucket_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="no 'bucket'"):
        LibCloudStorage("x")


@override_settings(
    LIBCLOUD_PROVIDERS={
        "x": {"type": "S3", "user": "u", "key": "k", "bucket": "b", "region": "nowhere-1"}
    }
)
def test_a_driver_that_cannot_be_created_says_why_with_the_seeds_ca_advice() -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        LibCloudStorage("x")
    message = str(raised.value)
    assert message.startswith("Unable to create libcloud driver type")
    assert "nowhere-1" in message
    assert "CA_CERTS_PATH" in message
    assert "'k'" not in message


def test_the_seeds_create_container_then_use(s3_driver: Driver) -> None:
    with override_settings(LIBCLOUD_PROVIDERS={"amazon_1": s3_driver.entry("bucket-1")}):
        store = LibCloudStorage("amazon_1")
        store.driver.create_container("bucket-1")
        name = store.save("hello.txt", ContentFile(b"hello"))
        assert store.open(name).read() == b"hello"


@override_settings(
    LIBCLOUD_PROVIDERS={
        "google": {**SEED_PROVIDERS["google"], "user": "<Your Google APIv1 username>"}
    }
)
def test_a_google_user_that_would_start_a_browser_login_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="HMAC"):
        LibCloudStorage("google")


def test_a_missing_container_is_a_clear_error_at_first_use_not_at_construction(
    s3_driver: Driver, local_driver: Driver
) -> None:
    for driver in (s3_driver, local_driver):
        store = LibCloudStorage(providers={"p": driver.entry("no-such-bucket")}, provider_name="p")
        with pytest.raises(Exception, match=r"container 'no-such-bucket'.*create_container"):
            store.exists("a.txt")


def test_secrets_stay_out_of_repr_and_pickles_rebuild_their_drivers(
    tmp_path: Path, s3_driver: Driver
) -> None:
    bucket = s3_driver.new_container()
    entry = {**s3_driver.entry(bucket), "key": "very-secret-key"}
    store = LibCloudStorage(providers={"p": entry}, provider_name="p")
    assert "very-secret-key" not in repr(store)
    assert "very-secret-key" not in repr(store.deconstruct())
    copy = pickle.loads(pickle.dumps(store))
    copy.save("pickled.txt", ContentFile(b"x"))
    assert store.exists("pickled.txt")
