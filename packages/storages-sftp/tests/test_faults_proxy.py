"""Faults on the wire: a fault-injecting proxy between the storage and sshd.

SSH protects every packet with a MAC: a flipped byte is an error on the connection,
never a wrong byte stored or read; a cut connection is retried on a new one (the
upload from the start when its content can rewind, a download from where it was).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import TransientError
from storages_base.testing.faults import (
    Fault,
    FaultProxy,
    Flip,
    Latency,
    Reset,
    Stall,
    Truncate,
    workload,
)
from storages_base.testing.reliability import confirm
from storages_sftp import SFTPStorage

from .conftest import params_for

pytestmark = pytest.mark.slow

KiB = 1024
#: Bytes into a connection past the SSH handshake and login (about 5 KiB with OpenSSH).
PAST_LOGIN = 64 * KiB


@pytest.fixture
def proxy(sshd: dict[str, Any]) -> Iterator[FaultProxy]:
    if not sshd.get("host_public"):
        pytest.skip("needs the local test server's host key")
    with FaultProxy(sshd["port"]) as proxy:
        yield proxy


@pytest.fixture
def make(
    sshd: dict[str, Any], proxy: FaultProxy, root: Path, tmp_path: Path
) -> Iterator[Callable[..., SFTPStorage]]:
    """Storages that reach sshd through the proxy (its port has the server's host key)."""
    known = tmp_path / "proxy_known_hosts"
    known.write_text(f"[127.0.0.1]:{proxy.port} {sshd['host_public']}\n")
    made: list[SFTPStorage] = []

    def factory(timeout: float = 5, **options: Any) -> SFTPStorage:
        options.setdefault("file_overwrite", True)
        storage = SFTPStorage(
            host="127.0.0.1",
            params={**params_for(sshd, timeout=timeout), "port": proxy.port},
            known_host_file=str(known),
            root_path=f"{root}/",
            **options,
        )
        made.append(storage)
        return storage

    yield factory
    for storage in made:
        storage.close()


def cuts(direction: str, at: int) -> list[Fault]:
    return [
        Reset(direction=direction, at=at),  # type: ignore[arg-type]
        Truncate(direction=direction, at=at),  # type: ignore[arg-type]
        Flip(direction=direction, at=at),  # type: ignore[arg-type]
    ]


def test_one_fault_during_an_upload_is_retried_and_stores_the_whole_file(make, proxy, root):
    storage = make()
    storage.save("doc.bin", ContentFile(b"the old version"))
    storage.close()  # the next save opens a connection the fault is armed for
    data = os.urandom(2 * 1024 * KiB)
    faults = cuts("up", PAST_LOGIN + 256 * KiB)
    for fault in faults:
        fired = proxy.stats.faults
        proxy.inject(fault, connections=1)
        assert storage.save("doc.bin", ContentFile(data)) == "doc.bin"
        assert proxy.stats.faults == fired + 1, fault
        assert (root / "doc.bin").read_bytes() == data
        assert storage.listdir("") == ([], ["doc.bin"])
        assert os.listdir(root) == ["doc.bin"]  # the cut attempt's temporary file was deleted
        storage.close()
    confirm(
        "SFTP",
        "1. Faults: proxy, upload",
        f"{len(faults)} one-shot faults ({', '.join(f.kind for f in faults)}) 256 KiB into "
        f"a 2 MiB save over an existing file: retried on a new connection, whole file "
        f"stored, no temporary file left",
    )


def test_an_upload_cut_on_every_attempt_raises_and_keeps_the_old_file(make, proxy, root):
    storage = make()
    storage.save("doc.bin", ContentFile(b"the old version"))
    storage.close()
    faults = cuts("up", PAST_LOGIN + 256 * KiB)
    injected = 0
    for fault in faults:
        fired = proxy.stats.faults
        proxy.inject(fault, connections=None)
        with pytest.raises(TransientError):
            storage.save("doc.bin", ContentFile(os.urandom(2 * 1024 * KiB)))
        proxy.clear()
        assert proxy.stats.faults - fired == 3  # bounded: three attempts, no more
        injected += proxy.stats.faults - fired
        assert (root / "doc.bin").read_bytes() == b"the old version"
        assert storage.listdir("") == ([], ["doc.bin"])
        assert os.listdir(root) == ["doc.bin"]  # deleted on the connection that listed
        storage.close()
    confirm(
        "SFTP",
        "1. Faults: proxy, upload cut every time",
        f"{injected} faults ({', '.join(f.kind for f in faults)}, each on all 3 attempts of "
        f"a save): TransientError after 3 attempts, old content kept, no temporary file left",
    )


def test_a_fault_during_a_download_is_resumed_and_never_returns_wrong_bytes(make, proxy, root):
    data = os.urandom(2 * 1024 * KiB)
    (root / "doc.bin").write_bytes(data)
    storage = make()
    faults = cuts("down", PAST_LOGIN + 512 * KiB)
    for fault in faults:
        storage.close()
        proxy.inject(fault, connections=1)
        with storage.open("doc.bin") as file:
            assert file.read() == data  # resumed at its position on a new connection
    assert proxy.stats.faults == len(faults)
    confirm(
        "SFTP",
        "1. Faults: proxy, download",
        f"{len(faults)} faults ({', '.join(f.kind for f in faults)}) 512 KiB into a 2 MiB "
        f"download: resumed on a new connection, every byte right",
    )


def test_faults_anywhere_in_a_connection_are_survived(make, proxy, root):
    """Each fault at a byte position spread over a whole connection, handshake included."""
    data = os.urandom(256 * KiB)
    clean = make()
    before = (proxy.stats.bytes_up, proxy.stats.bytes_down)
    workload(clean, data)
    clean.close()
    length = {"up": proxy.stats.bytes_up - before[0], "down": proxy.stats.bytes_down - before[1]}
    positions = 4
    operations = injected = 0
    for step in range(positions):
        for direction in ("up", "down"):
            for fault in cuts(direction, length[direction] * step // positions):
                storage = make(timeout=2, max_idle=1)
                fired = proxy.stats.faults
                proxy.inject(fault, connections=1)
                operations += workload(storage, data)
                storage.close()
                injected += proxy.stats.faults - fired
                assert os.listdir(root) == []
    assert injected == positions * 2 * 3
    confirm(
        "SFTP",
        "1. Faults: proxy, whole connection",
        f"{injected} one-shot faults (reset, truncate, flip; both directions, at {positions} "
        f"positions spread over a connection, handshake included) during {operations} "
        f"operations: every operation succeeded, no file left behind",
    )


def test_flipped_bytes_are_caught_by_the_ssh_mac_never_stored_or_returned(make, proxy, root):
    """Many flips in the content of uploads and downloads: every one is an error, retried."""
    data = os.urandom(1024 * KiB)
    storage = make()
    flips = 0
    for at in range(PAST_LOGIN, PAST_LOGIN + 1024 * KiB, 256 * KiB):
        storage.close()
        proxy.inject(Flip(direction="up", at=at, mask=0x80), connections=1)
        storage.save("doc.bin", ContentFile(data))
        assert (root / "doc.bin").read_bytes() == data
        storage.close()
        proxy.inject(Flip(direction="down", at=at, mask=0x80), connections=1)
        with storage.open("doc.bin") as file:
            assert file.read() == data
        flips += 2
    assert proxy.stats.fired["flip"] == flips
    assert os.listdir(root) == ["doc.bin"]
    confirm(
        "SFTP",
        "5. Integrity: SSH MAC",
        f"{flips} flipped bytes in the content of 1 MiB uploads and downloads: each one a "
        f"MAC error on the connection, retried; no wrong byte stored or returned",
    )


def test_a_truncated_upload_is_never_stored_short(make, proxy, root):
    storage = make()
    storage.save("doc.bin", ContentFile(b"the old version"))
    storage.close()
    cut = PAST_LOGIN + 10 * KiB
    proxy.inject(Truncate(direction="up", at=cut), connections=None)
    with pytest.raises(TransientError):
        storage.save("doc.bin", ContentFile(b"x" * 100 * KiB))
    proxy.clear()
    assert proxy.stats.fired["truncate"] == 3
    assert (root / "doc.bin").read_bytes() == b"the old version"
    assert storage.listdir("") == ([], ["doc.bin"])
    assert os.listdir(root) == ["doc.bin"]
    confirm(
        "SFTP",
        "5. Integrity: short upload",
        "connection closed cleanly 10 KiB into the content of a 100 KiB save, on each of 3 "
        "attempts: every write must be acknowledged, so TransientError; nothing stored under "
        "the name, old content kept",
    )


def test_a_stalled_peer_times_out_within_the_configured_timeout(make, proxy, root):
    storage = make(timeout=0.5)
    storage.save("doc.bin", ContentFile(b"the old version"))
    storage.close()
    elapsed = []
    stalls = (
        Stall(direction="down", at=0),  # a server that accepts and never says a word
        Stall(direction="down", at=100),  # one that stops answering during the handshake
        Stall(direction="down", at=2500),  # ... the login (or the SFTP session's start)
        Stall(direction="up", at=PAST_LOGIN + 256 * KiB),  # an upload that stops moving
    )
    for fault in stalls:
        proxy.inject(fault, connections=None)
        started = time.monotonic()
        with pytest.raises(TransientError):
            storage.save("doc.bin", ContentFile(os.urandom(4 * 1024 * KiB)))
        elapsed.append(time.monotonic() - started)
        proxy.clear()
        proxy.drop()
        storage.close()
    # 3 attempts of 0.5 s each and the reconnections: never paramiko's 15 s, 30 s or
    # the unbounded wait for the SFTP session (which hung here before).
    assert all(seconds < 10 for seconds in elapsed), elapsed
    assert (root / "doc.bin").read_bytes() == b"the old version"
    injected = proxy.stats.fired["stall"]
    assert injected == 3 * len(stalls)
    confirm(
        "SFTP",
        "1. Faults: proxy, stalled peer",
        f"{injected} stalls ({len(stalls)} places: server silent from byte 0, 100 and 2,500 of "
        f"a connection, upload data stopped; on all 3 attempts) with timeout=0.5 s: "
        f"TransientError within 10 s each, old content kept",
    )


def test_latency_on_every_connection_changes_nothing_but_time(make, proxy):
    proxy.inject(Latency(seconds=0.01), connections=None)
    storage = make()
    runs = 3
    operations = sum(workload(storage, os.urandom(256 * KiB)) for _ in range(runs))
    proxy.clear()
    assert proxy.stats.fired["latency"] >= 1
    confirm(
        "SFTP",
        "1. Faults: proxy, latency",
        f"10 ms per turn on every connection, {operations} operations: all succeeded with "
        f"the right content",
    )
