"""The three real drivers the suite runs on, one server each per session.

LOCAL on a temporary folder; S3 against moto's server on 127.0.0.1 (its own process, real
HTTP); AZURE_BLOBS against Azurite from the repository's ``node_modules`` (a driver
whose server is missing skips, saying why). Each test gets a fresh container.
"""

from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

import importlib.util  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from django.test import override_settings  # noqa: E402

from storages_base.testing.kills import ServerProcess  # noqa: E402
from storages_base.testing.servers import (  # noqa: E402
    azurite_command,
    moto_md5_command,
    server_missing,
)
from storages_libcloud import LibCloudStorage  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
AZURITE_BIN = Path(
    os.environ.get("STORAGES_TEST_AZURITE_BIN") or REPO / "node_modules" / ".bin" / "azurite-blob"
)
AZURE_ACCOUNT = "devstoreaccount1"
#: Azurite's well-known development key (public, in Microsoft's documentation).
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass
class Driver:
    """One driver's provider entry without its bucket; ``entry(bucket)`` completes it."""

    label: str
    settings: dict[str, Any]

    def entry(self, bucket: str) -> dict[str, Any]:
        return {**self.settings, "bucket": bucket}

    def new_container(self) -> str:
        """Create a fresh container through libcloud itself, as the seed's docs do."""
        bucket = f"test-{secrets.token_hex(6)}"
        store = LibCloudStorage(providers={"setup": self.entry(bucket)}, provider_name="setup")
        store.driver.create_container(bucket)
        return bucket


@pytest.fixture(scope="session", autouse=True)
def lock_files_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """libcloud's LOCAL driver leaves a ``<sha256>.lock`` per path in the temp folder."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("locks"))
    yield
    tempfile.tempdir = previous


@pytest.fixture(scope="session")
def local_driver(tmp_path_factory: pytest.TempPathFactory) -> Driver:
    root = tmp_path_factory.mktemp("libcloud-local")
    return Driver("local", {"type": "libcloud.storage.types.Provider.LOCAL", "user": str(root)})


@pytest.fixture(scope="session")
def s3_driver() -> Iterator[Driver]:
    """moto's server in a process of its own (so memory measured here is the client's),
    checking ``Content-MD5`` (``storages_base.testing.moto_md5``)."""
    if importlib.util.find_spec("moto") is None:
        server_missing("moto[server] is not installed: the S3 driver cannot be tested")
    # moto checking Content-MD5 as S3 does (BadDigest): moto alone stores any body
    with ServerProcess(moto_md5_command) as server:
        port = server.port
        yield Driver(
            "s3",
            {
                "type": "libcloud.storage.types.Provider.S3",
                "user": "testing",
                "key": "testing",
                "host": "127.0.0.1",
                "port": port,
                "secure": False,
            },
        )


@pytest.fixture(scope="session")
def azure_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    """Azurite's blob service from the repository's node_modules."""
    if not AZURITE_BIN.exists() or shutil.which("node") is None:
        server_missing(f"Azurite is not installed ({AZURITE_BIN}): run npm install in the repo")
    command = azurite_command(AZURITE_BIN, tmp_path_factory.mktemp("azurite"), loose=True)
    with ServerProcess(command) as server:
        port = server.port
        yield Driver(
            "azure",
            {
                "type": "libcloud.storage.types.Provider.AZURE_BLOBS",
                "user": AZURE_ACCOUNT,
                "key": AZURE_KEY,
                "host": "127.0.0.1",
                "port": port,
                "secure": False,
            },
        )


@pytest.fixture(params=["local", "s3", "azure"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Each of the three drivers in turn."""
    found: Driver = request.getfixturevalue(f"{request.param}_driver")
    return found


@pytest.fixture
def make_storage(driver: Driver) -> Callable[..., LibCloudStorage]:
    """Build storages on a fresh container of ``driver``."""
    bucket = driver.new_container()

    def make(**options: Any) -> LibCloudStorage:
        providers = {"default": driver.entry(bucket)}
        return LibCloudStorage(**{"providers": providers, **options})

    return make


def settings_storages(
    request: pytest.FixtureRequest, driver_name: str
) -> Iterator[Callable[..., LibCloudStorage]]:
    """Storages of ``LIBCLOUD_PROVIDERS['default']`` on a fresh container of the driver,
    set as a user sets it (the shared suites' ``storage_factory``)."""
    driver: Driver = request.getfixturevalue(f"{driver_name}_driver")
    bucket = driver.new_container()
    with override_settings(LIBCLOUD_PROVIDERS={"default": driver.entry(bucket)}):
        yield lambda **options: LibCloudStorage(**options)
