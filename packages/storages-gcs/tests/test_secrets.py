"""Secrets (issue 16, check 4): the service account's private key never leaks."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.files.base import ContentFile
from google.oauth2 import service_account

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


def test_no_secret_leaks(
    gcs: GCSEmulator,
    bucket: str,
    make_storage: Callable[..., GoogleCloudStorage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": "leak-test@test-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": f"http://127.0.0.1:{free_port()}/token",  # nothing listens
    }
    credentials = service_account.Credentials.from_service_account_info(info)
    body = pem.splitlines()[1:-1]
    scan = SecretScan(
        {
            "private_key": pem,
            "private_key line": body[len(body) // 2],
            "private_key_id": info["private_key_id"],
        }
    )
    with scan.logs():
        # On the emulator requests go without credentials; the key signs URLs.
        working = make_storage(location="media", credentials=credentials, querystring_auth=True)
        working.save("there.txt", ContentFile(b"x"))
        assert "Signature=" in working.url("there.txt")
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
    # Without the emulator variable the key is used for requests: its token endpoint is
    # unreachable, so every operation fails.
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    with scan.logs():
        refused = make_storage(credentials=credentials, api_endpoint=gcs.url)
        scan.error(lambda: refused.exists("a.txt"))
        scan.error(lambda: refused.save("a.txt", ContentFile(b"x")))
    for storage in (working, refused):
        scan.storage(storage)
    confirm("GCS", "4. Secrets", scan.figures())
