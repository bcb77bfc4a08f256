"""Options: django-storages' names, settings and defaults; names; each way to authenticate."""

from __future__ import annotations

import os
import pickle
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_azure import AzureStorage
from storages_azure.client import EMULATOR_KEY, account_of, parse_connection_string
from storages_azure.options import AZURE_OPTIONS
from storages_base.errors import NotFoundError, PermissionDeniedError, StorageError

from .conftest import ACCOUNT, OTHER_ACCOUNT, OTHER_KEY, Azurite

C = {"azure_container": "media", "account_name": "acct"}


def test_the_readme_settings_table_is_the_options_table() -> None:
    from storages_base.testing.readme import check_settings_table

    check_settings_table(Path(__file__).parents[1] / "README.md", AZURE_OPTIONS, "AzureStorage")


# -- precedence and defaults ----------------------------------------------------------------


def test_every_default_is_django_storages_default() -> None:
    storage = AzureStorage(**C)
    assert {
        name: getattr(storage, name)
        for name in (
            "account_key",
            "connection_string",
            "custom_connection_string",
            "sas_token",
            "token_credential",
            "location",
            "overwrite_files",
            "file_overwrite",
            "object_parameters",
            "cache_control",
            "expiration_secs",
            "custom_domain",
            "azure_ssl",
            "endpoint_suffix",
            "emulated_mode",
            "upload_max_conn",
            "timeout",
            "max_memory_size",
            "client_options",
            "api_version",
            "default_content_type",
        )
    } == {
        "account_key": None,
        "connection_string": None,
        "custom_connection_string": None,
        "sas_token": None,
        "token_credential": None,
        "location": "",
        "overwrite_files": False,
        "file_overwrite": False,
        "object_parameters": {},
        "cache_control": None,
        "expiration_secs": None,
        "custom_domain": None,
        "azure_ssl": True,
        "endpoint_suffix": "core.windows.net",
        "emulated_mode": False,
        "upload_max_conn": 2,
        "timeout": 20,
        "max_memory_size": 2 * 1024 * 1024,
        "client_options": {},
        "api_version": None,
        "default_content_type": "application/octet-stream",
    }


@override_settings(AZURE_LOCATION="from-setting", AZURE_CONTAINER="c", AZURE_ACCOUNT_NAME="a")
def test_option_beats_class_attribute_beats_setting() -> None:
    assert AzureStorage().location == "from-setting"

    class Media(AzureStorage):
        location = "from-class"

    assert Media().location == "from-class"
    assert Media(location="from-option").location == "from-option"


@override_settings(AZURE_OVERWRITE_FILES=True)
def test_azure_overwrite_files_and_file_overwrite_are_one_switch() -> None:
    assert AzureStorage(**C).file_overwrite is True
    assert AzureStorage(**C, file_overwrite=False).overwrite_files is False
    assert AzureStorage(**C, overwrite_files=False).file_overwrite is False


def test_a_django_setting_name_in_options_is_refused_with_the_option_to_use() -> None:
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'azure_container'"):
        AzureStorage(AZURE_CONTAINER="media")


def test_a_missing_container_is_refused_at_first_use_naming_the_setting() -> None:
    storage = AzureStorage(account_name="acct")  # a models module imports without settings
    with pytest.raises(ImproperlyConfigured, match="AZURE_CONTAINER"):
        storage.exists("a.txt")


def test_a_missing_account_is_refused_at_first_use_naming_the_settings() -> None:
    with pytest.raises(ImproperlyConfigured, match="AZURE_ACCOUNT_NAME"):
        AzureStorage(azure_container="media").url("a.txt")


def test_repr_deconstruct_and_pickle_hold_no_secret() -> None:
    storage = AzureStorage(
        **C,
        account_key=EMULATOR_KEY,
        connection_string=f"AccountName=acct;AccountKey={EMULATOR_KEY}",
        sas_token="sv=2020&sig=SECRETSIG",
    )
    for text in (repr(storage), repr(storage.deconstruct())):
        assert EMULATOR_KEY not in text
        assert "SECRETSIG" not in text
    storage.url("x")  # the URL builder exists now; it is rebuilt after unpickling
    assert pickle.loads(pickle.dumps(storage)).url("x") == storage.url("x")


# -- names: the seed's rules ------------------------------------------------------------------


def test_get_name_max_len_leaves_room_for_the_location() -> None:
    assert AzureStorage(**C).get_name_max_len() == 1024
    # "media/" + name: a name of get_name_max_len() characters fits Azure's 1,024.
    assert AzureStorage(**C, location="media").get_name_max_len() == 1024 - len("media/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my file?.txt", "my_file.txt"),
        ("folder/report v2.pdf.", "folder/report_v2.pdf"),
        ("a\\b\\c.txt", "a/b/c.txt"),
        ("dots...", "dots"),
    ],
)
def test_get_valid_name_cleans_a_name_for_azure(name: str, expected: str) -> None:
    assert AzureStorage(**C).get_valid_name(name) == expected


@pytest.mark.parametrize(
    "name",
    ["ends-with-a-dot.", "folder/also.", "/".join(["d"] * 258) + ".txt"],
)
def test_names_azure_refuses_are_refused_before_any_request(counted: Azurite, name: str) -> None:
    storage = counted.storage("no-such-container")
    mark = counted.mark()
    with pytest.raises(SuspiciousFileOperation, match="Azure blob name"):
        storage.save(name, ContentFile(b"x"))
    with (
        pytest.raises(SuspiciousFileOperation, match="Azure blob name"),
        storage.open(name, "wb") as f,
    ):
        f.write(b"x")
    assert counted.requests(mark) == []


def test_a_name_longer_than_azure_allows_is_truncated_keeping_its_extension(
    make_storage: Any,
) -> None:
    storage = make_storage(location="loc")
    name = storage.save("x" * 1100 + ".txt", ContentFile(b"long"))
    assert len(storage._key(name)) <= 1024
    assert name.endswith(".txt")
    assert storage.open(name).read() == b"long"


# -- connection strings and each way to authenticate ------------------------------------------


def test_connection_strings_of_every_shape_are_understood() -> None:
    assert parse_connection_string("A=1;b=x=y;")["B"] == "x=y"
    cases = {
        "UseDevelopmentStorage=true": "http://127.0.0.1:10000/devstoreaccount1",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;"
        "EndpointSuffix=core.chinacloudapi.cn": "https://acct.blob.core.chinacloudapi.cn",
        "AccountName=acct;AccountKey=a2V5": "https://acct.blob.core.windows.net",
        "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=2": "https://acct.blob.core.windows.net",
    }
    for text, url in cases.items():
        account = account_of(AzureStorage(azure_container="c", connection_string=text))
        assert account.url == url, text
        assert account.name in ("acct", "devstoreaccount1")
        assert "a2V5" not in repr(account)
    with pytest.raises(ImproperlyConfigured, match="malformed"):
        account_of(AzureStorage(azure_container="c", connection_string="nonsense"))


def test_the_sdk_clients_of_django_storages_are_there_lazily(azurite: Azurite) -> None:
    storage = AzureStorage(
        azure_container="media",
        account_name="acct",
        account_key=EMULATOR_KEY,
        custom_domain="cdn.example.com",
    )
    assert "service_client" not in storage.__dict__  # nothing built at construction
    assert storage.client.url == "https://acct.blob.core.windows.net/media"
    assert storage.custom_client.url == "https://cdn.example.com/media"
    assert storage.custom_service_client.account_name == "acct"
    shown = "BlobEndpoint=https://files.example.org/;AccountName=acct"
    custom = AzureStorage(
        azure_container="c",
        connection_string=azurite.connection_string,
        custom_connection_string=shown,
    )
    assert custom.custom_client.url == "https://files.example.org/c"
    assert custom.client.url.startswith(f"http://{azurite.host}/")


def round_trip(storage: AzureStorage) -> None:
    name = storage.save("auth/file.txt", ContentFile(b"authenticated"))
    assert storage.exists(name)
    assert storage.open(name).read() == b"authenticated"
    assert name in [f"auth/{f}" for f in storage.listdir("auth")[1]]
    storage.delete(name)
    assert not storage.exists(name)


def test_the_connection_string_authenticates(azurite: Azurite, container: str) -> None:
    round_trip(AzureStorage(azure_container=container, connection_string=azurite.connection_string))


def test_an_account_name_and_key_authenticate(azurite: Azurite) -> None:
    """A second account of our own (AZURITE_ACCOUNTS): nothing rests on the default one."""
    if os.environ.get("STORAGES_TEST_AZURITE_HOST"):
        pytest.skip("a reused Azurite may lack our second account (AZURITE_ACCOUNTS)")
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(
        f"http://{azurite.host}/{OTHER_ACCOUNT}",
        credential={"account_name": OTHER_ACCOUNT, "account_key": OTHER_KEY},
    )
    container = f"other-{secrets.token_hex(6)}"  # the server may be shared (reused)
    service.create_container(container)
    storage = azurite.storage(
        container, account_name=OTHER_ACCOUNT, account_key=OTHER_KEY, expiration_secs=60
    )
    round_trip(storage)
    name = storage.save("signed.txt", ContentFile(b"x"))
    assert f"/{OTHER_ACCOUNT}/{container}/signed.txt?" in storage.url(name)


def test_a_wrong_key_is_a_permission_error_that_names_the_cause(
    azurite: Azurite, container: str
) -> None:
    storage = azurite.storage(container, account_key=OTHER_KEY, client_options={"retry_total": 0})
    with pytest.raises(
        PermissionDeniedError, match=r"AuthenticationFailed|AuthorizationFailure"
    ) as info:
        storage.exists("a.txt")
    assert OTHER_KEY not in str(info.value)


def test_a_sas_token_authenticates_and_its_limits_are_refused_clearly(
    azurite: Azurite, container: str
) -> None:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    full = generate_container_sas(
        ACCOUNT,
        container,
        account_key=EMULATOR_KEY,
        expiry=expiry,
        permission=ContainerSasPermissions(
            read=True, write=True, create=True, delete=True, list=True
        ),
    )
    round_trip(azurite.storage(container, sas_token=full))
    read_only = generate_container_sas(
        ACCOUNT, container, account_key=EMULATOR_KEY, expiry=expiry, permission="rl"
    )
    storage = azurite.storage(container, sas_token="?" + read_only)
    with pytest.raises(PermissionDeniedError, match="AuthorizationPermissionMismatch") as info:
        storage.save("denied.txt", ContentFile(b"x"))
    assert "'cw' permission" in str(info.value)
    assert read_only.split("sig=")[1] not in str(info.value)


def test_a_missing_container_is_a_configuration_error_not_a_missing_file(azurite: Azurite) -> None:
    storage = azurite.storage("no-such-container", client_options={"retry_total": 0})
    with pytest.raises(StorageError, match="container 'no-such-container' does not exist") as info:
        storage.save("a.txt", ContentFile(b"x"))
    assert not isinstance(info.value, NotFoundError)


def test_content_settings_come_from_object_parameters_and_cache_control(
    make_storage: Any, container: str
) -> None:
    class PerFile(AzureStorage):
        def get_object_parameters(self, name: str) -> dict[str, Any]:
            parameters = super().get_object_parameters(name)
            if name.endswith(".pdf"):
                parameters["content_disposition"] = "attachment"
            return parameters

    options = make_storage().__dict__["_init_kwargs"]
    storage = PerFile(
        **options,
        cache_control="public,max-age=31536000,immutable",
        object_parameters={"content_language": "fr", "metadata": {"owner": "42"}},
    )
    name = storage.save("doc.pdf", ContentFile(b"%PDF"))
    properties = storage.client.get_blob_client(name).get_blob_properties()
    settings = properties.content_settings
    assert settings.cache_control == "public,max-age=31536000,immutable"
    assert settings.content_language == "fr"
    assert settings.content_disposition == "attachment"
    assert settings.content_type == "application/pdf"
    assert settings.content_md5 is not None  # sent, checked and stored by Azure
    assert properties.metadata == {
        "owner": "42",
        "storages_write": properties.metadata["storages_write"],
    }
    with pytest.raises(ImproperlyConfigured, match="AZURE_OBJECT_PARAMETERS"):
        AzureStorage(**options, object_parameters={"ContentType": "x"}).save("a", ContentFile(b""))


def test_client_options_and_api_version_reach_the_sdk(make_storage: Any) -> None:
    storage = make_storage(client_options={"retry_total": 1}, api_version="2021-08-06")
    assert storage.client.api_version == "2021-08-06"
    assert storage.client._config.retry_policy.total_retries == 1
    round_trip(storage)


def test_emulated_mode_defaults_to_azurites_development_account() -> None:
    storage = AzureStorage(azure_container="c", emulated_mode=True, azure_ssl=False)
    account = account_of(storage)
    assert account.url == f"http://127.0.0.1:10000/{ACCOUNT}"
    assert account.key == EMULATOR_KEY
    assert storage.url("a.txt") == f"http://127.0.0.1:10000/{ACCOUNT}/c/a.txt"


def test_requests_reads_the_environment_once_unless_a_proxy_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a proxy, the transport stops scanning the environment on every request
    (a quarter of a small upload's CPU) and gets the CA bundle once; a proxy keeps
    requests' own handling of the environment (NO_PROXY included)."""
    from storages_azure.client import client_kwargs

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
    storage = AzureStorage(azure_container="m", account_name="acct")
    kwargs = client_kwargs(storage)
    assert kwargs["use_env_settings"] is False
    assert kwargs["connection_verify"] == "/etc/ssl/bundle.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    kwargs = client_kwargs(storage)
    assert "use_env_settings" not in kwargs
    assert "connection_verify" not in kwargs
