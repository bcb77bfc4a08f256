"""URLs: V4 signatures equal to the SDK's, verified by the server; reuse; IAM signBlob."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http import server
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.base import ContentFile
from google.auth import credentials as auth_credentials

from storages_base import PermissionDeniedError
from storages_gcs import GoogleCloudStorage, urls
from storages_gcs.testing import GCSEmulator

from .conftest import SA_EMAIL

FROZEN = 1_795_000_500  # a whole multiple of 900 s: the start of a reuse window


def fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return bytes(response.read())


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Freeze our signing clock and the SDK's at the same instant."""
    from google.cloud.storage import _signing

    def freeze(epoch: float) -> None:
        monkeypatch.setattr(urls, "_now", lambda: epoch)
        monkeypatch.setattr(_signing, "_NOW", lambda tz=None: datetime.fromtimestamp(epoch, tz))

    freeze(FROZEN)
    return freeze


def sdk_url(storage: GoogleCloudStorage, key: str, credentials: Any, **kwargs: Any) -> str:
    blob = storage.bucket.blob(key)
    kwargs.setdefault("expiration", timedelta(seconds=86400))
    return str(blob.generate_signed_url(version="v4", credentials=credentials, **kwargs))


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"response_disposition": 'attachment; filename="r é.pdf"', "response_type": "x/y"},
        {"method": "PUT", "content_type": "image/png"},
        {"generation": "123", "query_parameters": {"userProject": "p"}},
        {"headers": {"x-goog-meta-owner": "  a   b "}, "expiration": timedelta(seconds=60)},
    ],
)
def test_signed_urls_are_byte_identical_to_the_sdks(
    storage: GoogleCloudStorage, sa_credentials: Any, frozen: Any, parameters: dict[str, Any]
) -> None:
    key = "dir/ünï cødé+name~(1).txt"
    ours = storage.url(key, parameters=dict(parameters))
    assert ours == sdk_url(storage, key, sa_credentials, **parameters)


def test_a_custom_endpoint_signs_as_a_bucket_bound_hostname(
    make_storage: Callable[..., GoogleCloudStorage], sa_credentials: Any, frozen: Any
) -> None:
    for endpoint in ("https://cdn.example.com", "cdn.example.com"):
        storage = make_storage(custom_endpoint=endpoint, location="media")
        ours = storage.url("a b.txt")
        assert ours == sdk_url(
            storage, "media/a b.txt", sa_credentials, bucket_bound_hostname=endpoint
        )
        assert ours.split("?")[0].endswith("/media/a%20b.txt")


def test_the_server_accepts_the_signature_and_refuses_a_tampered_or_expired_one(
    make_storage: Callable[..., GoogleCloudStorage], frozen: Callable[[float], None]
) -> None:
    storage = make_storage(url_reuse_window=0)
    name = storage.save("s.txt", ContentFile(b"signed"))
    frozen(datetime.now(timezone.utc).timestamp())
    url = storage.url(name)
    assert fetch(url) == b"signed"
    for bad in (
        url.replace("s.txt", "t.txt"),
        url[:-4] + ("0000" if url[-4:] != "0000" else "1111"),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            fetch(bad)
        assert caught.value.code == 403
    frozen(datetime.now(timezone.utc).timestamp() - 7200)
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(storage.url(name, expire=60))
    assert caught.value.code == 403


def test_a_name_asked_again_within_the_window_gets_the_same_url_without_signing(
    make_storage: Callable[..., GoogleCloudStorage],
    frozen: Callable[[float], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = make_storage(url_reuse_window=900)
    first = storage.url("a.txt")
    signer = storage.url_builder.signer()
    signs: list[bytes] = []
    original = signer._sign
    monkeypatch.setattr(signer, "_sign", lambda m: signs.append(m) or original(m))

    frozen(FROZEN + 899)
    assert storage.url("a.txt") == first
    assert signs == []
    assert storage.url("b.txt") != first
    frozen(FROZEN + 900)
    assert storage.url("a.txt") != first
    assert len(signs) == 2


def test_a_reuse_window_not_shorter_than_the_expiration_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="GS_QUERYSTRING_REUSE_WINDOW"):
        GoogleCloudStorage(bucket_name="b", expiration=600, url_reuse_window=900)


def test_public_urls_are_the_sdks_public_url(storage: GoogleCloudStorage) -> None:
    storage.querystring_auth = False
    storage.__dict__.pop("url_builder", None)
    assert storage.url("a b/c~d.txt") == storage.bucket.blob("a b/c~d.txt").public_url


# -- IAM signBlob: a local IAM credentials endpoint signs with a generated key -------------


class IamServer:
    """Stands in for iamcredentials.googleapis.com on 127.0.0.1: checks the token, signs."""

    def __init__(self, key: rsa.RSAPrivateKey, token: str) -> None:
        self.calls: list[str] = []
        owner = self

        class Handler(server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.calls.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                if SA_EMAIL not in self.path:
                    self.send_response(403)
                    self.end_headers()
                    return
                payload = base64.b64decode(body["payload"])
                signed = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
                answer = json.dumps({"keyId": "k", "signedBlob": base64.b64encode(signed).decode()})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class TokenCredentials(auth_credentials.Credentials):
    """Credentials without a key (as on Cloud Run): a token, refreshed when asked."""

    def __init__(self, email: str = SA_EMAIL) -> None:
        super().__init__()
        self.refreshes = 0
        self.service_account_email = email

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = "cloud-run-token"
        self.expiry = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)


@pytest.fixture
def iam(rsa_key: rsa.RSAPrivateKey) -> Iterator[IamServer]:
    server_ = IamServer(rsa_key, "cloud-run-token")
    yield server_
    server_.httpd.shutdown()


def test_iam_sign_blob_signs_without_a_key_and_the_server_accepts_it(
    make_storage: Callable[..., GoogleCloudStorage],
    iam: IamServer,
    gcs: GCSEmulator,
    sa_credentials: Any,
    frozen: Any,
) -> None:
    credentials = TokenCredentials()
    storage = make_storage(credentials=credentials, iam_sign_blob=True, iam_endpoint=iam.url)
    name = storage.save("iam.txt", ContentFile(b"via iam"))
    url = storage.url(name)

    assert url == sdk_url(storage, storage._key(name), sa_credentials)  # same key, same URL
    assert iam.calls == [f"/v1/projects/-/serviceAccounts/{SA_EMAIL}:signBlob"]
    frozen(datetime.now(timezone.utc).timestamp())
    assert fetch(storage.url(name)) == b"via iam"


def test_iam_sign_blob_keeps_its_token_and_reuses_urls(
    make_storage: Callable[..., GoogleCloudStorage], iam: IamServer, frozen: Any
) -> None:
    credentials = TokenCredentials()
    storage = make_storage(credentials=credentials, iam_sign_blob=True, iam_endpoint=iam.url)
    for _ in range(3):  # a page of 10 images, loaded three times
        for i in range(10):
            storage.url(f"img/{i}.png")
    assert credentials.refreshes == 1  # one token for every signature
    assert len(iam.calls) == 10  # one signature per image per reuse window


def test_iam_sign_blob_refused_names_the_permission(
    make_storage: Callable[..., GoogleCloudStorage], iam: IamServer
) -> None:
    storage = make_storage(
        credentials=TokenCredentials(),
        iam_sign_blob=True,
        iam_endpoint=iam.url,
        sa_email="someone-else@p.iam.gserviceaccount.com",
    )
    with pytest.raises(PermissionDeniedError, match=r"iam\.serviceAccounts\.signBlob"):
        storage.url("a.txt")
