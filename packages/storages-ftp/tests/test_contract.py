"""The shared conformance suite, on plain FTP and on FTPS."""

from typing import Any

import pytest
from django.test import override_settings

from storages_base.testing.contract import StorageContract
from storages_ftp import FTPStorage


def _builder(server: Any, root: str, request: pytest.FixtureRequest) -> Any:
    """The suite's ``location`` is a key prefix; FTP's is a URL whose path is the root."""
    built: list[FTPStorage] = []

    def build(**options: Any) -> FTPStorage:
        prefix = options.pop("location", "")
        path = "/".join(part for part in (root, prefix) if part)
        options = {
            "location": server.location(f"/{path}"),
            "encoding": "utf-8",
            "base_url": "/media/",
            **({"ca_file": server.ca_file} if server.ca_file else {}),
            **options,
        }
        storage = FTPStorage(**options)
        built.append(storage)
        return storage

    request.addfinalizer(lambda: [storage.close() for storage in built])
    return build


class FTPContractCases(StorageContract):
    def test_deconstruct_rebuilds_the_storage_without_its_secrets(
        self, storage_factory: Any, folder: str
    ) -> None:
        # FTP's location is the server URL with its password, a secret: deconstruct()
        # leaves it to FTP_STORAGE_LOCATION, and a rebuilt storage reads it from there.
        storage = storage_factory(location=f"{folder}/deconstructed")
        path, args, kwargs = storage.deconstruct()
        assert path == "storages_ftp.FTPStorage"  # the public path, not the module
        assert "location" not in kwargs
        assert storage.server.password not in repr((path, args, kwargs))
        with override_settings(FTP_STORAGE_LOCATION=storage.location):
            rebuilt = FTPStorage(*args, **kwargs)
        assert rebuilt.server == storage.server


class TestFTPContract(FTPContractCases):
    @pytest.fixture
    def storage_factory(self, ftp_server: Any, request: pytest.FixtureRequest) -> Any:
        return _builder(ftp_server, "contract-ftp", request)


class TestFTPSContract(FTPContractCases):
    @pytest.fixture
    def storage_factory(self, ftps_server: Any, request: pytest.FixtureRequest) -> Any:
        return _builder(ftps_server, "contract-ftps", request)
