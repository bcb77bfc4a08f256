"""GCS-specific behaviour: gzip, integrity, object parameters, ACLs, buckets, options."""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_base import IntegrityError, TransientError
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator

CSS = b"body { color: #123456; margin: 0 auto; }\n" * 200


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.read(), r.headers


def stored(
    gcs: GCSEmulator, storage: GoogleCloudStorage, name: str
) -> tuple[bytes, dict[str, Any]]:
    key = storage._key(name)
    return (
        gcs.storage.get_file(storage.bucket_name, key),
        gcs.storage.get_file_obj(storage.bucket_name, key),
    )


# -- gzip --------------------------------------------------------------------------------


def test_gzip_stores_compressed_and_reads_back_decompressed_once(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    storage = make_storage(gzip=True)
    name = storage.save("style.css", ContentFile(CSS))
    data, obj = stored(gcs, storage, name)

    assert obj["contentEncoding"] == "gzip"
    assert gzip.decompress(data) == CSS
    assert len(data) < len(CSS)
    with storage.open(name) as f:
        assert f.read() == CSS
        assert f.size == len(CSS)
    assert storage.size(name) == len(CSS)  # what read() returns, not the stored size


def test_a_gzipped_file_written_through_open_reads_back_and_sizes_by_its_trailer(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    storage = make_storage(gzip=True, blob_chunk_size=256 * 1024)
    big = CSS * 200  # compresses to less than a chunk: one upload
    with storage.open("big.css", "wb") as f:
        f.write(big)
    assert storage.open("big.css").read() == big
    assert storage.size("big.css") == len(big)


def test_a_client_that_does_not_accept_gzip_gets_the_file_decompressed(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    storage = make_storage(gzip=True, querystring_auth=False, default_acl="publicRead")
    name = storage.save("app.js", ContentFile(b"let x = 1;\n" * 100))
    body, headers = fetch(storage.url(name), {"Accept-Encoding": "identity"})
    assert body == b"let x = 1;\n" * 100
    assert headers.get("Content-Encoding") is None


def test_a_gz_archive_is_stored_as_it_is_and_not_marked_content_encoding(
    storage: GoogleCloudStorage, gcs: GCSEmulator
) -> None:
    archive = gzip.compress(b"tar bytes", mtime=0)
    name = storage.save("backup.tar.gz", ContentFile(archive))
    data, obj = stored(gcs, storage, name)
    assert data == archive
    assert not obj.get("contentEncoding")
    assert storage.open(name).read() == archive


# -- integrity ---------------------------------------------------------------------------


def test_a_download_that_does_not_match_the_stored_crc32c_raises_integrity_error(
    storage: GoogleCloudStorage, gcs: GCSEmulator
) -> None:
    name = storage.save("a.bin", ContentFile(b"the original bytes"))
    key = storage._key(name)
    obj = gcs.storage.get_file_obj(storage.bucket_name, key)
    gcs.storage.create_file(storage.bucket_name, key, b"the 0riginal bytes", obj)  # bit rot

    with pytest.raises(IntegrityError, match="CRC32C"), storage.open(name) as f:
        f.read()


# -- what is stored with a file ----------------------------------------------------------


def test_object_parameters_and_cache_control_are_stored_with_the_file(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    storage = make_storage(
        cache_control="public, max-age=60",
        object_parameters={
            "content_disposition": "attachment",
            "content_language": "fr",
            "metadata": {"owner": "42"},
        },
    )
    name = storage.save("a.txt", ContentFile(b"x"))
    _, obj = stored(gcs, storage, name)
    assert obj["cacheControl"] == "public, max-age=60"
    assert obj["contentDisposition"] == "attachment"
    assert obj["contentLanguage"] == "fr"
    assert obj["metadata"] == {"owner": "42"}
    assert obj["contentType"] == "text/plain"


def test_gs_cache_control_setting_is_honoured_and_object_parameters_win(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    with override_settings(GS_CACHE_CONTROL="max-age=5"):
        storage = make_storage()
        other = make_storage(object_parameters={"cache_control": "no-store"})
    assert stored(gcs, storage, storage.save("a.txt", ContentFile(b"x")))[1]["cacheControl"] == (
        "max-age=5"
    )
    assert stored(gcs, other, other.save("b.txt", ContentFile(b"x")))[1]["cacheControl"] == (
        "no-store"
    )


def test_public_read_files_get_public_urls_that_fetch_without_a_signature(
    make_storage: Callable[..., GoogleCloudStorage], gcs: GCSEmulator
) -> None:
    storage = make_storage(default_acl="publicRead")
    name = storage.save("pub lic.txt", ContentFile(b"hello"))
    url = storage.url(name)
    assert url == f"{gcs.url}/{storage.bucket_name}/pub%20lic.txt"
    assert fetch(url)[0] == b"hello"


def test_a_private_file_is_refused_without_a_signature(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    storage = make_storage(querystring_auth=False)
    name = storage.save("private.txt", ContentFile(b"secret"))
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(storage.url(name))
    assert caught.value.code == 403


def test_a_large_public_file_uploaded_in_chunks_is_public(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    storage = make_storage(default_acl="publicRead", blob_chunk_size=256 * 1024)
    data = b"z" * (600 * 1024)
    name = storage.save("big.bin", ContentFile(data))
    assert fetch(storage.url(name))[0] == data


# -- the bucket, folders and times -------------------------------------------------------


def test_exists_of_the_root_tells_whether_the_bucket_exists(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    assert make_storage().exists("")
    assert make_storage(location="some/where").exists("")
    assert not make_storage(bucket_name="no-such-bucket-here").exists("")


def test_created_and_modified_times_are_aware_and_recent(storage: GoogleCloudStorage) -> None:
    name = storage.save("t.txt", ContentFile(b"x"))
    now = datetime.now(timezone.utc)
    for value in (storage.get_created_time(name), storage.get_modified_time(name)):
        assert value.tzinfo is not None
        assert abs(now - value) < timedelta(minutes=1)


# -- options -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1000, 256 * 1024 + 1, -262144, "262144"])
def test_a_blob_chunk_size_that_is_not_a_multiple_of_256_kib_is_refused(size: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="multiple of 256 KiB"):
        GoogleCloudStorage(bucket_name="b", blob_chunk_size=size)


@pytest.mark.parametrize(
    "expiration",
    [
        lambda: timedelta(hours=2),
        lambda: 7200,
        lambda: datetime.now(timezone.utc) + timedelta(hours=2),
    ],
    ids=["timedelta", "seconds", "datetime"],
)
def test_expiration_takes_a_timedelta_seconds_or_a_datetime(
    make_storage: Callable[..., GoogleCloudStorage], expiration: Callable[[], Any]
) -> None:
    # The datetime is made here, not at collection: a loaded run reached this test
    # minutes after collecting it.
    url = make_storage(expiration=expiration()).url("a.txt")
    expires = int(url.split("X-Goog-Expires=")[1].split("&")[0])
    assert 7000 <= expires <= 7200  # a datetime counts down from the moment it was made


def test_an_expiration_over_seven_days_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="7 days"):
        GoogleCloudStorage(bucket_name="b", expiration=timedelta(days=8))


def test_settings_are_read_by_their_django_names() -> None:
    with override_settings(
        GS_BUCKET_NAME="from-settings",
        GS_LOCATION="media",
        GS_FILE_OVERWRITE=False,
        GS_DEFAULT_ACL="publicRead",
        GS_QUERYSTRING_AUTH=False,
        GS_EXPIRATION=timedelta(seconds=600),
        GS_IS_GZIPPED=True,
        GS_MAX_MEMORY_SIZE=1024,
        GS_BLOB_CHUNK_SIZE=512 * 1024,
        GS_CUSTOM_ENDPOINT="https://cdn.example.com",
        GS_IAM_SIGN_BLOB=True,
        GS_SA_EMAIL="signer@example.iam.gserviceaccount.com",
        GS_FILE_CHARSET="utf-8",
        GS_PROJECT_ID="proj",
        GS_OBJECT_PARAMETERS={"cache_control": "max-age=1"},
    ):
        storage = GoogleCloudStorage()
    assert (storage.bucket_name, storage.location, storage.file_overwrite) == (
        "from-settings",
        "media",
        False,
    )
    assert storage.default_acl == "publicRead"
    assert storage.querystring_auth is False
    assert storage.gzip
    assert storage.max_memory_size == 1024
    assert storage.blob_chunk_size == 512 * 1024
    assert storage.iam_sign_blob
    assert storage.sa_email == "signer@example.iam.gserviceaccount.com"
    assert storage.url("a b.txt") == "https://cdn.example.com/media/a%20b.txt"


def test_an_option_given_by_its_setting_name_is_refused_with_the_right_name() -> None:
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'iam_sign_blob'"):
        GoogleCloudStorage(bucket_name="b", GS_IAM_SIGN_BLOB=True)


def test_no_bucket_name_builds_and_the_first_operation_raises() -> None:
    storage = GoogleCloudStorage()
    with pytest.raises(ImproperlyConfigured, match="GS_BUCKET_NAME"):
        storage.exists("a.txt")


def test_credentials_stay_out_of_repr_and_deconstruct(sa_credentials: Any) -> None:
    storage = GoogleCloudStorage(bucket_name="b", credentials=sa_credentials)
    assert "credentials=***" in repr(storage)
    assert "credentials" not in storage.deconstruct()[2]


# -- credentials: clear errors, never a hang ---------------------------------------------


@pytest.fixture
def no_emulator(monkeypatch: pytest.MonkeyPatch, gcs: GCSEmulator) -> str:
    """The emulator reached through ``api_endpoint`` only: credentials are then real."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    return gcs.url


def test_no_credentials_is_improperly_configured_saying_what_to_set(
    no_emulator: str, bucket: str
) -> None:
    storage = GoogleCloudStorage(bucket_name=bucket, api_endpoint=no_emulator)
    started = time.monotonic()
    with pytest.raises(ImproperlyConfigured, match="GOOGLE_APPLICATION_CREDENTIALS"):
        storage.exists("a.txt")
    with pytest.raises(ImproperlyConfigured, match="GS_CREDENTIALS"):
        storage.url("a.txt")
    assert time.monotonic() - started < 10


def test_a_token_that_cannot_be_fetched_fails_fast_and_clearly(
    no_emulator: str, bucket: str, sa_credentials: Any
) -> None:
    storage = GoogleCloudStorage(
        bucket_name=bucket, api_endpoint=no_emulator, credentials=sa_credentials
    )
    started = time.monotonic()
    with pytest.raises(TransientError, match="access token"):
        storage.exists("a.txt")
    assert time.monotonic() - started < 10  # not the SDK's 120-second retry


def test_credentials_that_cannot_sign_say_what_to_set(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    from google.auth.credentials import AnonymousCredentials

    storage = make_storage(credentials=AnonymousCredentials())
    with pytest.raises(ImproperlyConfigured, match="GS_IAM_SIGN_BLOB"):
        storage.url("a.txt")
    assert storage.exists("a.txt") is False  # requests do not need to sign


def test_requests_reads_the_environment_once_unless_a_proxy_is_set(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a proxy, the session stops scanning the environment on every request (a
    quarter of a small upload's CPU) and takes the CA bundle once; a proxy keeps requests'
    own handling of the environment (NO_PROXY included)."""
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    session = make_storage().client._http
    assert session.trust_env is False
    assert session.verify == "/etc/ssl/bundle.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    session = make_storage().client._http
    assert session.trust_env is True
    assert session.verify is True


def test_retries_that_run_out_of_time_say_so_and_what_the_last_attempt_met():
    from google.api_core.exceptions import RetryError, ServiceUnavailable

    from storages_base.errors import TransientError
    from storages_gcs.errors import translate

    cause = ServiceUnavailable("backend busy")
    error = translate(
        RetryError("Timeout of 120.0s exceeded", cause), name="a.txt", operation="save"
    )
    assert isinstance(error, TransientError)
    assert str(error).startswith("GCS did not answer in time (Timeout of 120.0s exceeded)")
    assert "ServiceUnavailable: 503 backend busy" in str(error)
