from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

import os  # noqa: E402
import secrets  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from storages_base.testing import free_port  # noqa: E402
from storages_gcs import GoogleCloudStorage  # noqa: E402
from storages_gcs.testing import GCSEmulator  # noqa: E402

SA_EMAIL = "storages-test@test-project.iam.gserviceaccount.com"


@pytest.fixture(scope="session")
def no_google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Nothing may reach Google: the metadata server and the token endpoint are a closed
    port on loopback, and no application default credentials file is found."""
    closed = free_port()
    mp = pytest.MonkeyPatch()
    mp.setenv("GCE_METADATA_HOST", f"127.0.0.1:{closed}")
    mp.setenv("GCE_METADATA_IP", f"127.0.0.1:{closed}")
    mp.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("gcloud")))
    mp.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    yield closed
    mp.undo()


@pytest.fixture(scope="session")
def gcs(no_google: int) -> Iterator[GCSEmulator]:
    """gcp-storage-emulator (extended, see emulator.py) on 127.0.0.1 for the session."""
    server = GCSEmulator().start()
    mp = pytest.MonkeyPatch()
    mp.setenv("STORAGE_EMULATOR_HOST", server.url)
    yield server
    mp.undo()
    server.stop()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def sa_info(rsa_key: rsa.RSAPrivateKey, no_google: int) -> dict[str, str]:
    """A service-account key generated for the tests (its token URI is a closed port)."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": f"http://127.0.0.1:{no_google}/token",
    }


@pytest.fixture(scope="session")
def sa_credentials(sa_info: dict[str, str], gcs: GCSEmulator, rsa_key: rsa.RSAPrivateKey) -> Any:
    from google.oauth2 import service_account

    gcs.signers[SA_EMAIL] = rsa_key.public_key()
    return service_account.Credentials.from_service_account_info(sa_info)


@pytest.fixture
def bucket(gcs: GCSEmulator) -> str:
    name = f"test-{secrets.token_hex(6)}"
    gcs.create_bucket(name)
    return name


@pytest.fixture
def make_storage(
    gcs: GCSEmulator, bucket: str, sa_credentials: Any
) -> Callable[..., GoogleCloudStorage]:
    def make(cls: type[GoogleCloudStorage] = GoogleCloudStorage, **options: Any) -> Any:
        options = {"bucket_name": bucket, "credentials": sa_credentials, **options}
        return cls(**options)

    return make


@pytest.fixture
def storage(make_storage: Callable[..., GoogleCloudStorage]) -> GoogleCloudStorage:
    return make_storage()


def emulator_env() -> str | None:
    return os.environ.get("STORAGE_EMULATOR_HOST")
