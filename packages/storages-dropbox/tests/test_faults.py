"""Issue 16, checks 1 and 5: the server SIGKILLed mid-upload, the client SIGKILLed
mid-upload, and bytes changed on the wire (inside TLS) or at rest.

For the kills the local Dropbox server runs as a child process keeping its tree, tokens
and CA in a folder (``python -m storages_dropbox.testing``), so it starts again as it was.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import IntegrityError
from storages_base.testing.faults import FaultProxy
from storages_base.testing.integrity import corrupted_transfers
from storages_base.testing.kills import (
    ServerProcess,
    check_client_killed_mid_upload,
    check_server_killed_mid_upload,
    pattern,
)
from storages_base.testing.reliability import confirm
from storages_base.testing.wire import wire_faults
from storages_dropbox import DropboxStorage
from storages_dropbox.files import BLOCK_SIZE
from storages_dropbox.testing import DropboxServer

PART = BLOCK_SIZE  # the smallest session part: 4 MiB
PARTS = 3
BOUND = 30.0


@pytest.fixture
def process(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, Any]]]:
    token = "sl." + secrets.token_urlsafe(24)
    data = tmp_path / "dropbox"

    def command(port: int) -> list[str]:
        module = [sys.executable, "-m", "storages_dropbox.testing"]
        return [*module, "--port", str(port), "--data", str(data), "--token", token]

    with ServerProcess(command) as server:
        options = {
            "api_host": f"127.0.0.1:{server.port}",
            "ca_bundle": str(data / "ca.pem"),
            "oauth2_access_token": token,
            "write_mode": "overwrite",
            "max_retries": 2,
        }
        yield server, options


def new_storage(options: dict[str, Any]) -> DropboxStorage:
    storage = DropboxStorage(**options)
    storage.CHUNK_SIZE = PART  # type: ignore[misc]
    return storage


def test_server_killed_mid_upload(process: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, options = process
    size = PARTS * PART
    check_server_killed_mid_upload(new_storage(options), server, size, 2 * PART, BOUND)

    confirm(
        "Dropbox",
        "1. Faults: server SIGKILL",
        f"server killed after {2 * PART // 2**20} MiB of a {size // 2**20} MiB upload session "
        f"and restarted: error to the caller, old content kept, no partial file, "
        f"the same storage reads and saves again",
    )


def test_client_killed_mid_upload(process: tuple[ServerProcess, dict[str, Any]]) -> None:
    _server, options = process
    size = PARTS * PART
    spec = {
        "class": "storages_dropbox.DropboxStorage",
        "options": options,
        "attributes": {"CHUNK_SIZE": PART},
    }
    check_client_killed_mid_upload(new_storage(options), spec, size, at=2 * PART)

    confirm(
        "Dropbox",
        "1. Faults: client SIGKILL",
        f"2 clients killed after {2 * PART // 2**20} MiB of a {size // 2**20} MiB upload "
        f"session (over a file, to a new name): old content kept, no file under the new name",
    )


def test_changed_bytes_give_an_error_never_wrong_bytes(
    server: DropboxServer, make_storage: Callable[..., DropboxStorage]
) -> None:
    """Check 5: every upload call carries its content hash (the server refuses a mismatch,
    and the hash Dropbox reports for the file is compared); a whole-file read is checked
    against the content hash sent with it. A byte flipped inside TLS breaks the record's
    MAC: the upload fails, the read is resumed from a new connection."""
    direct = make_storage(write_mode="overwrite")
    with FaultProxy(int(server.host.rsplit(":", 1)[1])) as proxy:
        sizes = [64 * 1024, PART + 1024]  # one upload call; a session of two
        wire = corrupted_transfers(
            lambda: make_storage(api_host=f"127.0.0.1:{proxy.port}", write_mode="overwrite"),
            direct,
            proxy,
            sizes,
            after=b"",  # TLS: count from the connection's first byte
        )
    assert wire.uploads_refused == len(sizes)
    assert all(error.startswith("TransientError") for error in wire.errors), wire.errors

    # At rest: the stored bytes change after Dropbox hashed them.
    rotten = 0
    for size in sizes:
        name = direct.save(f"rot/{size}.bin", ContentFile(pattern(size)))
        blob = server.lookup(f"/{name}").blob
        assert blob is not None
        stored = bytearray(blob.read_bytes())
        stored[size // 2] ^= 0x01
        blob.write_bytes(bytes(stored))
        with pytest.raises(IntegrityError), direct.open(name) as file:
            file.read()
        rotten += 1

    confirm(
        "Dropbox",
        "5. Integrity: changed bytes",
        f"{wire.flips} bytes flipped inside TLS by the loopback proxy ({len(sizes)} uploads, "
        f"{len(sizes)} reads): {wire.uploads_refused} uploads failed, nothing stored; "
        f"{wire.downloads_refused} reads raised, {wire.downloads_correct} resumed with the "
        f"right bytes; {rotten} files changed at rest: reads raised IntegrityError "
        f"(content_hash); no wrong bytes",
    )


def test_connections_cut_stalled_and_slowed(
    server: DropboxServer, make_storage: Callable[..., DropboxStorage]
) -> None:
    """Resets, stalls, a truncated read and latency through the proxy (inside TLS), with
    ``timeout`` at 2 s: an error or the right bytes, never a partial or duplicate file."""
    direct = make_storage(write_mode="overwrite")
    timeout = 2
    with FaultProxy(int(server.host.rsplit(":", 1)[1])) as proxy:
        outcomes = wire_faults(
            lambda: make_storage(
                api_host=f"127.0.0.1:{proxy.port}", write_mode="overwrite", timeout=timeout
            ),
            direct,
            proxy,
            size=1024 * 1024,
            bound=BOUND,
            after=b"",
            cut_answer=False,
        )

    confirm(
        "Dropbox",
        "1. Faults: proxy",
        f"{outcomes.figures()}, inside TLS; stalls given up after the {timeout} s timeout; "
        f"no partial or duplicate file",
    )
