"""Issue 16, check 1: the emulator SIGKILLed mid-upload, and the client SIGKILLed mid-upload.

The emulator runs as a child process with a data folder (``python -m storages_gcs.testing``)
so it can be killed and started again on the same port with what it had stored.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storages_base.testing.faults import FaultProxy
from storages_base.testing.integrity import corrupted_transfers
from storages_base.testing.kills import (
    ServerProcess,
    check_client_killed_mid_upload,
    check_server_killed_mid_upload,
)
from storages_base.testing.reliability import confirm
from storages_base.testing.wire import wire_faults
from storages_gcs import GoogleCloudStorage
from storages_gcs.options import RESUMABLE_ALIGNMENT
from storages_gcs.testing import GCSEmulator

PART = RESUMABLE_ALIGNMENT  # the smallest chunk GCS takes: 256 KiB
PARTS = 4
#: A kill, and the failure it causes, must reach the caller within this (the SDK's own
#: retry deadline is 120 s; our resumable chunks are not retried on a refused connection).
BOUND = 30.0


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    def command(port: int) -> list[str]:
        data = str(tmp_path / "gcs")
        return [sys.executable, "-m", "storages_gcs.testing", "--port", str(port), "--data", data]

    with ServerProcess(command) as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{server.port}")
        yield server


def new_storage(bucket: str | None = None) -> GoogleCloudStorage:
    storage = GoogleCloudStorage(bucket_name=bucket or f"test-{secrets.token_hex(6)}")
    storage.blob_chunk_size = PART
    if bucket is None:
        storage.client.create_bucket(storage.bucket_name)
    return storage


def test_server_killed_mid_upload(emulator: ServerProcess) -> None:
    size = PARTS * PART
    check_server_killed_mid_upload(new_storage(), emulator, size, 2 * PART, BOUND)

    confirm(
        "GCS",
        "1. Faults: server SIGKILL",
        f"emulator killed after {2 * PART // 1024} KiB of a {size // 1024} KiB resumable upload "
        f"and restarted: error to the caller, old content kept, no partial object, "
        f"the same storage reads and saves again",
    )


def test_client_killed_mid_upload(emulator: ServerProcess) -> None:
    storage = new_storage()
    size = PARTS * PART
    spec = {
        "class": "storages_gcs.GoogleCloudStorage",
        "options": {"bucket_name": storage.bucket_name, "blob_chunk_size": PART},
        "env": {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{emulator.port}"},
    }
    check_client_killed_mid_upload(storage, spec, size, at=2 * PART)

    confirm(
        "GCS",
        "1. Faults: client SIGKILL",
        f"2 clients killed after {2 * PART // 1024} KiB of a {size // 1024} KiB upload "
        f"(over a file, to a new name): old content kept, no object under the new name",
    )


def test_flipped_bytes_give_an_error_never_wrong_bytes(
    gcs: GCSEmulator, make_storage: Callable[..., GoogleCloudStorage]
) -> None:
    """Check 5: one byte flipped in a multipart upload (the SDK puts its CRC32C in the
    metadata), in a resumable one (its last chunk carries ``X-Goog-Hash``) and in reads of
    both (checked against the CRC32C GCS sends with the object). GCS refuses the uploads."""
    direct = make_storage()
    port = int(gcs.url.rsplit(":", 1)[1])
    with FaultProxy(port) as proxy:
        sizes = [64 * 1024, PARTS * PART]  # one request; four chunks of a session
        mark = gcs.mark()
        outcomes = corrupted_transfers(
            lambda: make_storage(api_endpoint=proxy.url, blob_chunk_size=PART),
            direct,
            proxy,
            sizes,
            # the emulator closes each connection: the session's start, chunk 1, chunk 2...
            up_at=lambda size: size // 2 if size < PART else PART // 2,
            up_skip=lambda size: 0 if size < PART else 2,
        )
    chunks = [r for r in gcs.requests(mark) if r.method == "PUT"]
    last_chunks = [r for r in chunks if not r.headers["content-range"].endswith("/*")]
    assert last_chunks
    assert all("crc32c=" in r.headers.get("x-goog-hash", "") for r in last_chunks)
    assert outcomes.uploads_refused == len(sizes)
    assert outcomes.downloads_refused == len(sizes)
    assert all(error.startswith("IntegrityError") for error in outcomes.errors), outcomes.errors

    confirm(
        "GCS",
        "5. Integrity: flipped bytes",
        f"{outcomes.flips} bytes flipped by the loopback proxy ({len(sizes)} uploads: multipart "
        f"with its CRC32C, resumable whose last chunk has X-Goog-Hash; {len(sizes)} reads): "
        f"{outcomes.uploads_refused} uploads refused by the CRC32C check, nothing stored; "
        f"{outcomes.downloads_refused} reads raised IntegrityError; no wrong bytes",
    )


def test_connections_cut_stalled_and_slowed(
    gcs: GCSEmulator, make_storage: Callable[..., GoogleCloudStorage]
) -> None:
    """Resets, a lost answer, stalls, a truncated read and latency through the proxy, with
    ``timeout`` at 2 s: an error or the right bytes, never a partial or duplicate object
    (a create-only retry is recognised by its token); a stall ends at the timeout (the
    storage's reads had 120 s, and no option to change it)."""
    direct = make_storage()
    timeout = 2
    with FaultProxy(int(gcs.url.rsplit(":", 1)[1])) as proxy:
        outcomes = wire_faults(
            lambda: make_storage(api_endpoint=proxy.url, timeout=timeout),
            direct,
            proxy,
            size=PARTS * PART,  # one multipart request (under the 8 MiB chunk)
            bound=BOUND,
        )

    confirm(
        "GCS",
        "1. Faults: proxy",
        f"{outcomes.figures()} (the SDK's bounded retries); stalls given up after the "
        f"{timeout} s timeout (GS_TIMEOUT); no partial or duplicate object",
    )
