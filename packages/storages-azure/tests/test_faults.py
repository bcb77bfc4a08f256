"""Issue 16, check 1: Azurite SIGKILLed mid-upload, and the client SIGKILLed mid-upload.

Azurite runs as a child process of this module with its own folder, so it can be killed
and started again on the same port with what it had stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storages_azure import AzureStorage
from storages_azure.client import EMULATOR_KEY
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

from .conftest import ACCOUNT, AZURITE_BIN, Azurite

PART = 1024 * 1024
PARTS = 4
#: The failure must reach the caller within this: three retries about 1, 3 and 5 s apart
#: (the SDK's own waits held it for about 85 s; see ``storages_azure.client``).
BOUND = 30.0


@pytest.fixture
def azurite_process(tmp_path: Path) -> Iterator[ServerProcess]:
    if not AZURITE_BIN.exists():
        pytest.skip(f"Azurite is not installed ({AZURITE_BIN})")

    command = azurite_command(AZURITE_BIN, tmp_path / "azurite")
    env = {"AZURITE_ACCOUNTS": f"{ACCOUNT}:{EMULATOR_KEY}"}
    with ServerProcess(command, env=env) as server:
        yield server


def storage_of(server: ServerProcess, container: str) -> AzureStorage:
    storage = Azurite(f"127.0.0.1:{server.port}").storage(container, file_overwrite=True)
    storage.stream_part_size = PART  # type: ignore[misc]
    return storage


@pytest.mark.slow  # about 30 s: the SDK's three retries, and Azurite started three times
def test_server_killed_mid_upload(azurite_process: ServerProcess) -> None:
    azurite = Azurite(f"127.0.0.1:{azurite_process.port}")
    container = azurite.new_container()
    storage = storage_of(azurite_process, container)
    size = PARTS * PART
    # Azurite keeps its metadata in memory and writes it out every 5 s (Azure stores a
    # blob durably before it answers): a clean restart writes the old content out first.
    check_server_killed_mid_upload(
        storage, azurite_process, size, 2 * PART, BOUND, restart_first=True
    )

    confirm(
        "Azure",
        "1. Faults: server SIGKILL",
        f"Azurite killed after {2 * PART // 1024} KiB of a {size // 1024} KiB block upload "
        f"and restarted: error to the caller, old content kept, no partial blob, "
        f"the same storage reads and saves again",
    )


def test_client_killed_mid_upload(azurite_process: ServerProcess) -> None:
    azurite = Azurite(f"127.0.0.1:{azurite_process.port}")
    container = azurite.new_container()
    storage = storage_of(azurite_process, container)
    size = PARTS * PART
    spec = {
        "class": "storages_azure.AzureStorage",
        "options": azurite.options(container, file_overwrite=True),
        "attributes": {"stream_part_size": PART},
    }
    check_client_killed_mid_upload(storage, spec, size, at=2 * PART)

    confirm(
        "Azure",
        "1. Faults: client SIGKILL",
        f"2 clients killed after {2 * PART // 1024} KiB of a {size // 1024} KiB block upload "
        f"(over a blob, to a new name): old content kept, no blob under the new name",
    )


def test_flipped_bytes_give_an_error_never_wrong_bytes(azurite: Azurite, container: str) -> None:
    """Check 5: one byte flipped in a Put Blob, a Put Block and in reads of both; Azure
    refuses the uploads (Content-MD5 per request), the reads check the range's MD5."""
    direct = azurite.storage(container, file_overwrite=True)

    with FaultProxy(int(azurite.host.rsplit(":", 1)[1])) as proxy:

        def proxied() -> AzureStorage:
            storage = Azurite(f"127.0.0.1:{proxy.port}").storage(container, file_overwrite=True)
            storage.stream_part_size = PART  # type: ignore[misc]
            return storage

        sizes = [64 * 1024, 3 * PART]
        outcomes = corrupted_transfers(proxied, direct, proxy, sizes, up_at=lambda size: size // 4)
    assert outcomes.uploads_refused == len(sizes)
    assert outcomes.downloads_refused == len(sizes)

    confirm(
        "Azure",
        "5. Integrity: flipped bytes",
        f"{outcomes.flips} bytes flipped by the loopback proxy ({len(sizes)} uploads: Put Blob "
        f"and Put Block; {len(sizes)} reads): {outcomes.uploads_refused} uploads refused by "
        f"Azure's MD5 check, nothing stored; {outcomes.downloads_refused} reads raised; "
        f"no wrong bytes",
    )


@pytest.mark.slow  # two stalls of 2 s and the SDK's retry waits: about 20 s
def test_connections_cut_stalled_and_slowed(azurite: Azurite, container: str) -> None:
    """Resets, a lost answer, stalls, a truncated read and latency, through the proxy: an
    error or the right bytes, never a partial or duplicate blob; with a 2 s read timeout
    (``client_options``) a stalled peer is given up on and the SDK's retry succeeds."""
    direct = azurite.storage(container, file_overwrite=True)
    timeout = 2
    with FaultProxy(int(azurite.host.rsplit(":", 1)[1])) as proxy:
        outcomes = wire_faults(
            lambda: Azurite(f"127.0.0.1:{proxy.port}").storage(
                container,
                file_overwrite=True,
                timeout=timeout,
                client_options={"read_timeout": timeout},
            ),
            direct,
            proxy,
            size=PART,
            bound=BOUND,
        )

    confirm(
        "Azure",
        "1. Faults: proxy",
        f"{outcomes.figures()} (the SDK's bounded retries); stalls given up after the "
        f"{timeout} s read timeout; no partial or duplicate blob",
    )
