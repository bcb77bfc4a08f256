"""Issue 16, checks 1 and 5 through libcloud's drivers: the server SIGKILLed mid-upload
(Azurite, which keeps what it stored across a restart; moto keeps nothing), the client
SIGKILLed mid-upload (every driver), and bytes flipped on the wire (S3 and Azure)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storages_base.testing.faults import FaultProxy
from storages_base.testing.integrity import corrupted_transfers
from storages_base.testing.kills import (
    ServerProcess,
    check_client_killed_mid_upload,
    check_server_killed_mid_upload,
)
from storages_base.testing.reliability import confirm
from storages_base.testing.servers import azurite_command
from storages_base.testing.wire import wire_faults
from storages_libcloud import LibCloudStorage

from .conftest import AZURE_ACCOUNT, AZURE_KEY, AZURITE_BIN, Driver

MIB = 1024 * 1024
SIZE = 12 * MIB  # three of libcloud's 4 MiB Azure blocks, two of its 5 MiB S3 parts and more
AT = 9 * MIB
BOUND = 30.0


def storage_of(driver: Driver, bucket: str, **entry: Any) -> LibCloudStorage:
    providers = {"default": {**driver.entry(bucket), **entry}}
    return LibCloudStorage(providers=providers, file_overwrite=True)


@pytest.fixture
def azurite_process(tmp_path: Path) -> Iterator[ServerProcess]:
    if not AZURITE_BIN.exists():
        pytest.skip(f"Azurite is not installed ({AZURITE_BIN})")

    with ServerProcess(azurite_command(AZURITE_BIN, tmp_path / "azurite", loose=True)) as server:
        yield server


@pytest.mark.slow  # Azurite started three times: about 10 s
def test_server_killed_mid_upload(azurite_process: ServerProcess) -> None:
    driver = Driver(
        "azure",
        {
            "type": "libcloud.storage.types.Provider.AZURE_BLOBS",
            **{"user": AZURE_ACCOUNT, "key": AZURE_KEY, "host": "127.0.0.1"},
            **{"port": azurite_process.port, "secure": False},
        },
    )
    storage = storage_of(driver, driver.new_container())
    # Azurite writes its metadata out every 5 s (Azure stores before it answers): a clean
    # restart writes the old content out first.
    check_server_killed_mid_upload(storage, azurite_process, SIZE, AT, BOUND, restart_first=True)

    confirm(
        "Libcloud",
        "1. Faults: server SIGKILL",
        f"Azurite (AZURE_BLOBS driver) killed after {AT // MIB} MiB of a {SIZE // MIB} MiB "
        f"upload and restarted: error to the caller, old content kept, no partial blob, "
        f"the same storage reads and saves again",
    )


@pytest.mark.slow  # six client processes: about 20 s
def test_client_killed_mid_upload(request: pytest.FixtureRequest) -> None:
    labels = []
    for fixture in ("local_driver", "s3_driver", "azure_driver"):
        driver: Driver = request.getfixturevalue(fixture)
        bucket = driver.new_container()
        spec = {
            "class": "storages_libcloud.LibCloudStorage",
            "options": {"providers": {"default": driver.entry(bucket)}, "file_overwrite": True},
        }
        check_client_killed_mid_upload(storage_of(driver, bucket), spec, SIZE, at=AT)
        labels.append(driver.label)

    confirm(
        "Libcloud",
        "1. Faults: client SIGKILL",
        f"{len(labels)} drivers ({', '.join(labels)}), 2 clients each killed after "
        f"{AT // MIB} MiB of a {SIZE // MIB} MiB upload (over a file, to a new name): "
        f"old content kept, no object under the new name",
    )


def test_flipped_bytes_give_an_error_never_wrong_bytes(
    s3_driver: Driver, azure_driver: Driver
) -> None:
    """Check 5: libcloud sends each Azure block and each S3 part with its Content-MD5,
    which the server checks; an Azure read is checked against the blob's Content-MD5.
    libcloud states no checksum of an S3 object (its ETag is none for multipart or KMS
    objects), so S3 reads are not flipped here: they cannot be checked."""
    figures = []
    flips = 0
    # moto closes each connection: an S3 upload's first one only starts the multipart
    for driver, downloads, skip in ((azure_driver, True, 0), (s3_driver, False, 1)):
        bucket = driver.new_container()
        direct = storage_of(driver, bucket)
        with FaultProxy(int(driver.settings["port"])) as proxy:
            outcomes = corrupted_transfers(
                lambda: storage_of(driver, bucket, port=proxy.port),  # noqa: B023
                direct,
                proxy,
                [64 * 1024, 6 * MIB],
                up_at=lambda size: size // 4,
                up_skip=lambda size: skip,  # noqa: B023
                downloads=downloads,
            )
        assert outcomes.uploads_refused == 2, outcomes.errors
        flips += outcomes.flips
        figures.append(
            f"{driver.label}: {outcomes.uploads_refused} uploads refused"
            + (f", {outcomes.downloads_refused} reads raised" if downloads else "")
        )

    confirm(
        "Libcloud",
        "5. Integrity: flipped bytes",
        f"{flips} bytes flipped by the loopback proxy ({'; '.join(figures)}); refused by "
        f"each block's and part's Content-MD5 (moto extended to check it, as S3 does), "
        f"nothing stored; Azure reads checked against the blob's MD5; no wrong bytes; "
        f"S3 reads unchecked (libcloud states no checksum for them)",
    )


def test_connections_cut_stalled_and_slowed(azure_driver: Driver) -> None:
    """Resets, a lost answer, stalls, a truncated read and latency through the proxy, with
    the driver's ``timeout`` at 2 s: an error or the right bytes, never a partial or
    duplicate object; a stalled read ends at the timeout (libcloud sent downloads with
    none: they hung forever). On AZURE_BLOBS: moto closes every connection, so the S3
    driver's upload would need a fault per request."""
    driver = azure_driver
    bucket = driver.new_container()
    direct = storage_of(driver, bucket)
    timeout = 2
    with FaultProxy(int(driver.settings["port"])) as proxy:
        outcomes = wire_faults(
            lambda: storage_of(driver, bucket, port=proxy.port, timeout=timeout),
            direct,
            proxy,
            size=6 * MIB,
            bound=4 * timeout + 5,
        )

    confirm(
        "Libcloud",
        "1. Faults: proxy",
        f"AZURE_BLOBS driver: {outcomes.figures()}; stalls given up after the {timeout} s "
        f"timeout (libcloud sent downloads without one: a stalled read hung forever); "
        f"no partial or duplicate object",
    )
