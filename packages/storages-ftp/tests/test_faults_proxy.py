"""Faults on the wire: a fault-injecting proxy on the control and on the data connections.

The server's passive data port is fixed and its 227 replies name a second proxy in front
of it, so every transfer crosses that proxy too. Each fault is one-shot (the next
connection is clean) unless a test arms it for every connection. A user sees, for every
fault: the operation succeeds on a new session (retried), or raises a StorageError;
never a short or wrong file, never the old file lost.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import StorageError, TransientError
from storages_base.testing import free_port
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
from storages_ftp import FTPStorage

pytestmark = pytest.mark.slow

KiB = 1024
PASV = re.compile(r"^227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)")


@dataclass
class Rig:
    """A server behind two proxies: ``control`` (its port) and ``data`` (its passive port)."""

    scheme: str
    home: Path
    control: FaultProxy
    data: FaultProxy
    ca_file: str | None
    made: list[FTPStorage] = field(default_factory=list)

    @property
    def tls(self) -> bool:
        return self.scheme == "ftps"

    def storage(self, **options: Any) -> FTPStorage:
        options.setdefault("allow_overwrite", True)
        options.setdefault("timeout", 5)  # a fault that ends in a wait ends within 5 s
        if self.ca_file:
            options.setdefault("ca_file", self.ca_file)
        storage = FTPStorage(
            location=f"{self.scheme}://u:p@127.0.0.1:{self.control.port}/", **options
        )
        self.made.append(storage)
        return storage

    def files(self) -> list[str]:
        """Every name in the server's folder, hidden temporary files included."""
        return sorted(os.listdir(self.home))


@pytest.fixture(params=["ftp", "ftps"])
def rig(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_server: Callable[..., Any],
    tls_files: dict[str, str],
) -> Iterator[Rig]:
    tls = request.param == "ftps"
    passive_port = free_port()
    data = FaultProxy(passive_port).start()

    def respond(self: Any, resp: str, *args: Any, **kwargs: Any) -> None:
        # Send the client to the data proxy instead of the passive port itself.
        found = PASV.match(resp)
        if found:
            # pyftpdlib falls back to a kernel-chosen port when the configured one is
            # taken (a client socket of a parallel test may hold it): follow it.
            data.upstream = ("127.0.0.1", int(found.group(5)) * 256 + int(found.group(6)))
            high, low = divmod(data.port, 256)
            resp = f"227 Entering passive mode (127,0,0,1,{high},{low})."
        super(type(self), self).respond(resp, *args, **kwargs)

    home = tmp_path / "home"
    home.mkdir()
    server = start_server(
        home,
        tls_cert=tls_files["certfile"] if tls else None,
        users={"u": ("p", "elradfmwMT")},
        passive_ports=[passive_port],
        respond=respond,
    )
    control = FaultProxy(server.address[1]).start()
    rig = Rig(request.param, home, control, data, tls_files["ca_file"] if tls else None)
    try:
        yield rig
    finally:
        for storage in rig.made:
            storage.close()
        control.close()
        data.close()
        server.close_all()


def upload_faults(tls: bool, at: int) -> list[Fault]:
    """The faults of an upload's data stream: a flipped byte only where TLS can notice it."""
    faults: list[Fault] = [Reset(direction="up", at=at), Truncate(direction="up", at=at)]
    if tls:  # plain FTP has no integrity check at all: a flipped byte would be stored as is
        faults.append(Flip(direction="up", at=at))
    return faults


def test_one_fault_on_an_upload_s_data_connection_is_retried_and_stores_the_whole_file(rig):
    storage = rig.storage()
    storage.save("doc.bin", ContentFile(b"the old version"))
    data = os.urandom(2 * 1024 * KiB)
    injected = 0
    for fault in upload_faults(rig.tls, at=256 * KiB):
        fired = rig.data.stats.faults
        rig.data.inject(fault, connections=1)
        assert storage.save("doc.bin", ContentFile(data)) == "doc.bin"
        assert rig.data.stats.faults == fired + 1, fault
        injected += 1
        assert (rig.home / "doc.bin").read_bytes() == data
        assert rig.files() == ["doc.bin"]  # the cut attempt's temporary file was deleted
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} upload data",
        f"{injected} one-shot faults ({', '.join(kind_names(rig.tls))}) at 256 KiB of a 2 MiB "
        f"save over an existing file: retried on a new session, whole file stored, "
        f"no temporary file left",
    )


def kind_names(tls: bool) -> list[str]:
    return [fault.kind for fault in upload_faults(tls, 0)]


def test_an_upload_cut_on_every_attempt_raises_and_keeps_the_old_file(rig):
    storage = rig.storage(retries=2)
    storage.save("doc.bin", ContentFile(b"the old version"))
    data = os.urandom(2 * 1024 * KiB)
    injected = 0
    for fault in upload_faults(rig.tls, at=256 * KiB):
        fired = rig.data.stats.faults
        rig.data.inject(fault, connections=None)
        with pytest.raises(TransientError, match="after 3 attempt"):
            storage.save("doc.bin", ContentFile(data))
        rig.data.clear()
        injected += rig.data.stats.faults - fired
        assert rig.data.stats.faults - fired == 3  # bounded: 1 try + 2 retries, no more
        assert (rig.home / "doc.bin").read_bytes() == b"the old version"
        assert storage.listdir("") == ([], ["doc.bin"])
        assert rig.files() == ["doc.bin"]
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} upload cut every time",
        f"{injected} faults ({', '.join(kind_names(rig.tls))}, each on all 3 attempts of a "
        f"save): TransientError after 3 attempts, old content kept, no temporary file left",
    )


def test_a_short_transfer_is_caught_by_the_size_check_and_never_stored(rig):
    """The cut comes after the client sent its last byte: only the SIZE check sees it."""
    storage = rig.storage(retries=0)
    storage.save("doc.bin", ContentFile(b"the old version"))
    size, cut = 100 * KiB, 10 * KiB
    rig.data.inject(Truncate(direction="up", at=cut), connections=1)
    with pytest.raises(TransientError) as caught:
        storage.save("doc.bin", ContentFile(b"x" * size))
    assert rig.data.stats.fired["truncate"] == 1
    if not rig.tls:  # the server saw a clean end of file and answered 226
        assert f"stored {cut} of the {size} bytes" in str(caught.value)
    assert (rig.home / "doc.bin").read_bytes() == b"the old version"
    assert rig.files() == ["doc.bin"]
    how = "" if rig.tls else " (the size check: the server stored less than was sent)"
    confirm(
        "FTP",
        f"5. Integrity: {rig.scheme.upper()} short upload",
        f"data connection closed cleanly after {cut // KiB} KiB of a {size // KiB} KiB save, "
        f"after the client sent everything: TransientError{how}, nothing stored under the "
        f"name, old content kept",
    )


def test_a_fault_on_a_download_s_data_connection_raises_never_a_short_or_wrong_file(rig):
    data = os.urandom(2 * 1024 * KiB)
    (rig.home / "doc.bin").write_bytes(data)
    storage = rig.storage()
    faults: list[Fault] = [
        Reset(direction="down", at=256 * KiB),
        Truncate(direction="down", at=256 * KiB),
    ]
    if rig.tls:
        faults.append(Flip(direction="down", at=256 * KiB))
    for fault in faults:
        rig.data.inject(fault, connections=1)
        received = bytearray()
        with pytest.raises(StorageError), storage.open("doc.bin") as file:  # noqa: PT012
            while chunk := file.read(64 * KiB):
                received += chunk
        assert len(received) < len(data)
        assert received == data[: len(received)]  # what came before the fault is right
        with storage.open("doc.bin") as file:  # and the next download is whole
            assert file.read() == data
    assert rig.data.stats.faults == len(faults)
    confirm(
        "FTP",
        f"5. Integrity: {rig.scheme.upper()} short download",
        f"data connection closed cleanly at 256 KiB of a {len(data) >> 20} MiB download: "
        f"StorageError (fewer bytes than MLST announced, or the server's 426), never a "
        f"short file returned",
    )
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} download data",
        f"{len(faults)} faults ({', '.join(f.kind for f in faults)}) at 256 KiB of a 2 MiB "
        f"download: StorageError, the bytes read before it correct, the next read whole",
    )


def control_faults(tls: bool, at: int) -> list[Fault]:
    faults: list[Fault] = []
    for direction in ("up", "down"):
        faults += [Reset(direction=direction, at=at), Truncate(direction=direction, at=at)]
        if tls:  # a flipped byte of a plain FTP command or reply is not detectable
            faults.append(Flip(direction=direction, at=at))
    return faults


def test_faults_anywhere_on_the_control_connection_are_survived(rig):
    """Each fault at a byte position spread over a whole session's conversation."""
    data = os.urandom(64 * KiB)
    clean = rig.storage()
    before = (rig.control.stats.bytes_up, rig.control.stats.bytes_down)
    workload(clean, data)
    clean.close()
    length = {
        "up": rig.control.stats.bytes_up - before[0],
        "down": rig.control.stats.bytes_down - before[1],
    }
    positions = 6
    operations = injected = 0
    refused: list[tuple[Fault, StorageError]] = []
    for step in range(positions):
        for fault in control_faults(rig.tls, at=0):
            # Spread over the conversation, the login included.
            at = length[fault.direction] * step // positions
            fault = type(fault)(direction=fault.direction, at=at)
            # A flipped TLS record length leaves the client waiting for bytes that never
            # come: the timeout ends that wait, and the retry succeeds.
            storage = rig.storage(pool_size=1, timeout=2)
            fired = rig.control.stats.faults
            rig.control.inject(fault, connections=1)
            try:
                operations += workload(storage, data)
            except StorageError as exc:
                refused.append((fault, exc))
                operations += workload(storage, data)  # the next session is clean
            storage.close()
            injected += rig.control.stats.faults - fired
            assert rig.files() == []
    # A refusal, not a wrong result, and only where FTPS is still plain text: a flipped
    # byte of "AUTH TLS" is an unknown command (500), which is not retried.
    assert all(rig.tls and isinstance(f, Flip) and f.at < 16 for f, _ in refused), refused
    assert injected == positions * len(control_faults(rig.tls, 0))
    kinds = sorted({f.kind for f in control_faults(rig.tls, 0)})
    refusals = ""
    if rig.tls:
        refusals = (
            f" but {len(refused)} refused with a StorageError (a flipped byte of the "
            "plain-text AUTH TLS exchange)"
        )
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} control connection",
        f"{injected} one-shot faults ({', '.join(kinds)}; both directions, at {positions} "
        f"positions spread over a session) during {operations} operations: all succeeded on "
        f"a new session{refusals}, no file left behind",
    )


def test_a_stalled_peer_times_out_within_the_configured_timeout(rig):
    storage = rig.storage(timeout=0.5, retries=1)
    storage.save("doc.bin", ContentFile(b"the old version"))
    storage.close()
    stalls = []
    # The control connection stalls during the reply to the first command after login.
    rig.control.inject(Stall(direction="down", at=0), connections=None)
    started = time.monotonic()
    with pytest.raises(TransientError, match="after 2 attempt"):
        storage.exists("doc.bin")
    stalls.append(time.monotonic() - started)
    rig.control.clear()
    # An upload's data connection stops moving after 256 KiB of 4 MiB.
    rig.data.inject(Stall(direction="up", at=256 * KiB), connections=None)
    started = time.monotonic()
    with pytest.raises(TransientError, match="after 2 attempt"):
        storage.save("doc.bin", ContentFile(os.urandom(4 * 1024 * KiB)))
    stalls.append(time.monotonic() - started)
    rig.data.clear()
    rig.data.drop()
    # Bounded: attempts x timeout and the handshakes, never a hang.
    assert all(elapsed < 5 for elapsed in stalls), stalls
    assert (rig.home / "doc.bin").read_bytes() == b"the old version"
    injected = rig.control.stats.fired["stall"] + rig.data.stats.fired["stall"]
    assert injected == 4
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} stalled peer",
        f"{injected} stalls (control reply, upload data; on both attempts) with timeout=0.5 s, "
        f"retries=1: TransientError within 5 s each, old content kept",
    )


def test_latency_on_every_connection_changes_nothing_but_time(rig):
    rig.control.inject(Latency(seconds=0.01), connections=None)
    rig.data.inject(Latency(seconds=0.01), connections=None)
    storage = rig.storage()
    runs = 3
    operations = sum(workload(storage, os.urandom(256 * KiB)) for _ in range(runs))
    rig.control.clear()
    rig.data.clear()
    connections = rig.control.stats.fired["latency"] + rig.data.stats.fired["latency"]
    assert connections >= 1 + runs * 3  # a session, and a data connection per transfer
    confirm(
        "FTP",
        f"1. Faults: proxy, {rig.scheme.upper()} latency",
        f"10 ms per turn on every control and data connection, {operations} operations: "
        f"all succeeded with the right content",
    )
