"""AZURE_TOKEN_CREDENTIAL: requests carry bearer tokens, URLs are user-delegation SAS.

Azurite takes tokens only over HTTPS and with ``--oauth basic``, which checks a token's
issuer, audience and times but not its signature: this module starts its own Azurite so,
with a throwaway CA (trustme), and hands it unsigned tokens from a token endpoint on
127.0.0.1, as a managed identity's endpoint would serve them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_azure import AzureStorage
from storages_base.testing import free_port, wait_port
from storages_base.testing.contract import StorageContract

from .conftest import ACCOUNT, AZURITE_BIN

TENANT = "ab1f708d-50f6-404c-a006-d71b2ac7a606"
OBJECT_ID = "23657296-5cd5-45b0-a809-d972a7f4dfe1"


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


class _TokenEndpoint(BaseHTTPRequestHandler):
    """A managed-identity-like token endpoint: GET -> {"access_token", "expires_on"}."""

    served: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": OBJECT_ID,
            "tid": TENANT,
        }
        token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"
        self.served.append(self.path)
        body = json.dumps({"access_token": token, "expires_on": now + 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LocalTokenCredential:
    """A TokenCredential (any object with ``get_token``) fetching from a local endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.endpoint}?resource={scopes[0]}", timeout=10) as response:
            data = json.load(response)
        return AccessToken(data["access_token"], int(data["expires_on"]))


@pytest.fixture(scope="module")
def oauth_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Azurite over HTTPS with OAuth, a token endpoint, and a container made with a token."""
    if not AZURITE_BIN.exists() or shutil.which("node") is None:
        pytest.skip(f"Azurite is not installed ({AZURITE_BIN}); run `npm ci` at the repo root")
    import trustme

    folder: Path = tmp_path_factory.mktemp("azurite-oauth")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    port = free_port()
    proc = subprocess.Popen(
        [
            str(AZURITE_BIN),
            "--blobHost", "127.0.0.1", "--blobPort", str(port),
            "--location", str(folder / "data"),
            "--silent", "--skipApiVersionCheck", "--disableTelemetry",
            "--cert", str(folder / "cert.pem"), "--key", str(folder / "key.pem"),
            "--oauth", "basic",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )  # fmt: skip
    handler = type("Endpoint", (_TokenEndpoint,), {"served": []})
    tokens = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=tokens.serve_forever, daemon=True)
    thread.start()
    try:
        wait_port(port, proc)
        credential = LocalTokenCredential(f"http://127.0.0.1:{tokens.server_address[1]}/token")
        server = {
            "host": f"127.0.0.1:{port}",
            "ca": str(folder / "ca.pem"),
            "credential": credential,
            "served": handler.served,
        }
        storage = token_storage(server, "tokens")
        storage.service_client.create_container("tokens")
        yield server
    finally:
        tokens.shutdown()
        proc.terminate()
        proc.wait(10)


def token_storage(server: dict[str, Any], container: str, **options: Any) -> AzureStorage:
    return AzureStorage(
        azure_container=container,
        emulated_mode=True,
        custom_domain=server["host"],
        token_credential=server["credential"],
        client_options={"connection_verify": server["ca"], "retry_total": 0},
        **options,
    )


def fetch(url: str, ca: str) -> bytes:
    context = ssl.create_default_context(cafile=ca)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    with opener.open(url, timeout=30) as response:
        return bytes(response.read())


def test_a_token_credential_reads_and_writes(oauth_azurite: dict[str, Any]) -> None:
    storage = token_storage(oauth_azurite, "tokens")
    name = storage.save("by-token/file.txt", ContentFile(b"bearer"))
    assert storage.open(name).read() == b"bearer"
    assert storage.listdir("by-token") == ([], ["file.txt"])
    assert oauth_azurite["served"], "the credential's endpoint was asked for a token"


def test_urls_are_user_delegation_sas_from_one_key(oauth_azurite: dict[str, Any]) -> None:
    storage = token_storage(oauth_azurite, "tokens", expiration_secs=600, url_reuse_window=0)
    names = [storage.save(f"delegated/{i}.txt", ContentFile(b"d%d" % i)) for i in range(3)]
    keys: list[Any] = []
    fetch_key = storage.service_client.get_user_delegation_key

    def counting(*args: Any, **kwargs: Any) -> Any:
        keys.append(args)
        return fetch_key(*args, **kwargs)

    storage.service_client.get_user_delegation_key = counting  # type: ignore[method-assign]
    urls = [storage.url(name) for name in names * 20]
    assert len(keys) == 1  # one key request per key lifetime, not per URL
    assert "skoid=" + OBJECT_ID in urls[0]
    assert f"/{ACCOUNT}/tokens/delegated/0.txt?" in urls[0]
    for i, url in enumerate(urls[:3]):
        assert fetch(url, oauth_azurite["ca"]) == b"d%d" % i  # Azurite verifies the SAS
    tampered = urls[0].replace("sig=", "sig=A")
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(tampered, oauth_azurite["ca"])
    assert info.value.code == 403


def test_a_url_outliving_the_cached_key_gets_a_new_key(oauth_azurite: dict[str, Any]) -> None:
    storage = token_storage(oauth_azurite, "tokens", expiration_secs=600)
    first = storage.get_user_delegation_key(datetime.now(timezone.utc))
    again = storage.get_user_delegation_key(datetime.now(timezone.utc) + timedelta(hours=2))
    assert again is first
    later = storage.get_user_delegation_key(datetime.now(timezone.utc) + timedelta(days=3))
    assert later is not first


class TestAzureStorageWithATokenCredential(StorageContract):
    """The whole conformance suite with bearer tokens and user-delegation SAS URLs."""

    large_file_size = 9 * 1024 * 1024  # two blocks

    @pytest.fixture
    def storage_factory(self, oauth_azurite: dict[str, Any]) -> Callable[..., AzureStorage]:
        self.ca = oauth_azurite["ca"]

        def build(**options: Any) -> AzureStorage:
            return token_storage(oauth_azurite, "tokens", **{"expiration_secs": 600, **options})

        return build

    def fetch_url(self, url: str) -> bytes:
        assert url.startswith("https://127.0.0.1:"), url
        assert "skoid=" in url, "a user-delegation SAS"
        return fetch(url, self.ca)
