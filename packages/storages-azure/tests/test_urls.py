"""URLs: SAS signed locally (byte for byte the SDK's), verified by Azurite over HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest
from azure.storage.blob import _shared_access_signature as _sdk_sas
from azure.storage.blob import generate_blob_sas
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from storages_azure import AzureStorage, urls
from storages_azure.client import EMULATOR_KEY

from .conftest import ACCOUNT, Azurite

FROZEN = 1_795_000_000  # a whole second: the instant URL tests sign at


def fetch(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with opener.open(request, timeout=30) as response:
        return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}


def refused(url: str, method: str = "GET", data: bytes | None = None, **headers: str) -> int:
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(url, method, data, **headers)
    return info.value.code


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "_now", lambda: float(FROZEN))


@pytest.mark.parametrize(
    ("name", "parameters", "mode"),
    [
        ("plain.txt", None, "r"),
        ("a folder/ünïcode name.pdf", None, "r"),
        ("report.pdf", {"content_disposition": 'attachment; filename="r 1.pdf"'}, "r"),
        (
            "x.bin",
            {"content_type": "text/plain", "cache_control": "no-cache", "content_language": "fr"},
            "r",
        ),
        ("upload.bin", None, "cw"),
        ("upload.bin", None, "wrc"),
    ],
)
@pytest.mark.usefixtures("frozen")
def test_the_sas_is_byte_for_byte_the_sdks(
    make_storage: Any,
    container: str,
    name: str,
    parameters: Any,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ours are signed at the fixed SAS_VERSION whatever SDK is installed; the installed SDK
    # signs at its own default (2023-11-03 in 12.19, 2024-11-04 in 12.23...), so it is asked
    # for that version: the same layout must give the same bytes.
    monkeypatch.setattr(_sdk_sas, "X_MS_VERSION", urls.SAS_VERSION)
    storage = make_storage(expiration_secs=3600, url_reuse_window=0)
    url = storage.url(name, parameters=parameters, mode=mode)
    expected = generate_blob_sas(
        ACCOUNT,
        container,
        name,
        account_key=EMULATOR_KEY,
        permission=urls.permissions(mode),
        expiry=datetime.fromtimestamp(FROZEN + 3600, timezone.utc),
        **(parameters or {}),
    )
    assert url.split("?", 1)[1] == expected
    assert f"sv={urls.SAS_VERSION}&" in expected


def test_a_sas_url_reads_the_private_blob_and_nothing_else(storage: AzureStorage) -> None:
    name = storage.save("private/ok.txt", ContentFile(b"sas works"))
    url = storage.url(name)
    assert fetch(url)[:2] == (200, b"sas works")
    assert refused(url.split("?")[0]) in (401, 403, 404)  # the container is private
    tampered = url.replace("sig=", "sig=A")
    assert refused(tampered) == 403
    # A read SAS cannot write: Azure's AuthorizationPermissionMismatch.
    assert refused(url, "PUT", b"evil", **{"x-ms-blob-type": "BlockBlob"}) == 403
    assert storage.open(name).read() == b"sas works"


def test_an_expired_sas_is_refused(storage: AzureStorage) -> None:
    name = storage.save("private/expiring.txt", ContentFile(b"soon gone"))
    url = storage.url(name, expire=1)
    time.sleep(2.1)
    assert refused(url) == 403


def test_response_headers_of_the_sas_are_honoured(storage: AzureStorage) -> None:
    name = storage.save("private/report.pdf", ContentFile(b"%PDF"))
    url = storage.url(name, parameters={"content_disposition": "attachment; filename=r.pdf"})
    _status, body, headers = fetch(url)
    assert body == b"%PDF"
    assert headers["content-disposition"] == "attachment; filename=r.pdf"


def test_a_write_sas_uploads_a_blob(storage: AzureStorage) -> None:
    url = storage.url("uploads/by-browser.txt", mode="w")
    status, _, _ = fetch(url, "PUT", b"from the browser", **{"x-ms-blob-type": "BlockBlob"})
    assert status == 201
    assert storage.open("uploads/by-browser.txt").read() == b"from the browser"


def test_a_presigned_upload_creates_once_and_never_replaces(storage: AzureStorage) -> None:
    upload = storage.presigned_upload("uploads/photo.png", max_size=1000, content_type="image/png")
    assert upload.method == "PUT"
    assert upload.headers["x-ms-blob-type"] == "BlockBlob"
    assert "sp=c&" in upload.url
    status, _, _ = fetch(upload.url, "PUT", b"\x89PNG first", **upload.headers)
    assert status == 201
    assert refused(upload.url, "PUT", b"\x89PNG second", **upload.headers) in (403, 409, 412)
    assert storage.open(upload.name).read() == b"\x89PNG first"
    assert storage._stat(upload.key).content_type == "image/png"
    assert refused(upload.url) == 403  # create only: it cannot read


def test_the_public_container_pattern_of_the_docs(azurite: Azurite) -> None:
    """The seed's private media + ``PublicAzureStorage`` (``expiration_secs = None``)."""

    class PublicAzureStorage(AzureStorage):
        azure_container = azurite.new_container(public=True)
        expiration_secs = None

    public = PublicAzureStorage(**azurite.options(PublicAzureStorage.azure_container))
    name = public.save("css/site.css", ContentFile(b"body{}"))
    url = public.url(name)
    assert "?" not in url
    assert url.endswith(f"/{PublicAzureStorage.azure_container}/css/site.css")
    assert fetch(url)[1] == b"body{}"
    private = azurite.storage(azurite.new_container(), expiration_secs=300)
    other = private.save("media/secret.txt", ContentFile(b"s"))
    assert "sig=" in private.url(other)
    assert refused(private.url(other).split("?")[0]) in (401, 403, 404)


def test_urls_are_reused_within_the_window_and_renewed_after(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = FROZEN - FROZEN % 600  # the start of a window
    monkeypatch.setattr(urls, "_now", lambda: float(start))
    storage = make_storage(expiration_secs=3600, url_reuse_window=600)
    first = storage.url("a.txt")
    monkeypatch.setattr(urls, "_now", lambda: float(start + 599))
    assert storage.url("a.txt") == first
    assert make_storage(expiration_secs=3600, url_reuse_window=600).url("a.txt") == first
    monkeypatch.setattr(urls, "_now", lambda: float(start + 600))
    assert storage.url("a.txt") != first


def test_a_reuse_window_not_shorter_than_the_expiry_is_refused(make_storage: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="AZURE_URL_REUSE_WINDOW"):
        make_storage(expiration_secs=600, url_reuse_window=600)


def test_custom_domain_replaces_the_host_of_urls_only(azurite: Azurite, container: str) -> None:
    storage = azurite.storage(container, custom_domain="cdn.example.com", expiration_secs=None)
    assert storage.url("a b.txt") == f"http://cdn.example.com/{ACCOUNT}/{container}/a%20b.txt"
    real = AzureStorage(azure_container="media", account_name="acct", custom_domain="cdn.ex.net")
    assert real.url("x/y.jpg") == "https://cdn.ex.net/media/x/y.jpg"


def test_the_custom_connection_string_shapes_urls_and_requests_use_the_other(
    azurite: Azurite, container: str
) -> None:
    storage = AzureStorage(
        azure_container=container,
        connection_string=azurite.connection_string,
        custom_connection_string=(
            f"AccountName={ACCOUNT};AccountKey={EMULATOR_KEY};"
            "BlobEndpoint=https://cdn.example.com/files;"
        ),
        expiration_secs=300,
    )
    name = storage.save("shaped.txt", ContentFile(b"via cdn"))
    url = storage.url(name)
    assert url.startswith(f"https://cdn.example.com/files/{container}/shaped.txt?se=")
    # The same signature is valid on the account itself: only the address differs.
    direct = url.replace("https://cdn.example.com/files", azurite.endpoint)
    assert fetch(direct)[1] == b"via cdn"


def test_the_default_url_shape_of_a_real_account() -> None:
    storage = AzureStorage(azure_container="media", account_name="myaccount", location="site")
    assert storage.url("a.txt") == "https://myaccount.blob.core.windows.net/media/site/a.txt"
    china = AzureStorage(
        azure_container="m", account_name="acct", endpoint_suffix="core.chinacloudapi.cn"
    )
    assert china.url("a") == "https://acct.blob.core.chinacloudapi.cn/m/a"
    plain = AzureStorage(azure_container="m", account_name="acct", azure_ssl=False)
    assert plain.url("a").startswith("http://acct.blob.")


def test_a_storage_that_cannot_sign_says_what_to_set() -> None:
    storage = AzureStorage(
        azure_container="m", account_name="acct", sas_token="sv=x&sig=y", expiration_secs=60
    )
    with pytest.raises(ValueError, match="AZURE_URL_EXPIRATION_SECS"):
        storage.url("a.txt")
    plain = AzureStorage(azure_container="m", account_name="acct", sas_token="sv=x&sig=y")
    assert plain.url("a.txt") == "https://acct.blob.core.windows.net/m/a.txt"
    # ... and it does not declare signed URLs; a key (alone or beside the token) does.
    assert not storage.capabilities.signed_urls
    assert not plain.capabilities.signed_urls
    keyed = AzureStorage(
        azure_container="m", account_name="acct", account_key="a2V5", sas_token="sv=x&sig=y"
    )
    assert keyed.capabilities.signed_urls
    assert AzureStorage.capabilities.signed_urls


def test_an_unknown_url_parameter_or_permission_is_refused(storage: AzureStorage) -> None:
    with pytest.raises(ValueError, match="content_disposition"):
        storage.url("a", parameters={"ResponseContentDisposition": "x"})
    with pytest.raises(ValueError, match="permission"):
        storage.url("a", mode="q")
