"""Fault tests on a server of their own: restarted between operations, killed mid-upload."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import TransientError
from storages_base.testing.kills import check_swept_a_day_later, kill_client_when_part_grows
from storages_base.testing.reliability import confirm
from storages_sftp import SFTPStorage, client
from storages_sftp.testing import SSHServer, descendants

from .conftest import SSHD_BINARY, params_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    if not os.path.exists(SSHD_BINARY):
        pytest.skip(f"{SSHD_BINARY} is missing: apt-get install openssh-server to run these")
    server = SSHServer(tmp_path_factory.mktemp("faulty-sshd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make(server: SSHServer, root: Path) -> Iterator[Callable[..., SFTPStorage]]:
    made: list[SFTPStorage] = []

    def factory(timeout: float = 10, **options: Any) -> SFTPStorage:
        if server.proc is None:
            server.start()
        address = server.address()
        storage = SFTPStorage(
            host="127.0.0.1",
            params=params_for(address, timeout=timeout),
            known_host_file=address["known_host_file"],
            root_path=str(root),
            **options,
        )
        made.append(storage)
        return storage

    yield factory
    for storage in made:
        storage.close()
    if server.proc is None:
        server.start()


class KillingStream(io.RawIOBase):
    """An upload source that runs ``action`` once ``after`` bytes have been read."""

    def __init__(self, size: int, after: int, action: Callable[[], None]) -> None:
        self.left, self.after, self.action, self.sent = size, after, action, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.action is not None and self.sent >= self.after:
            action, self.action = self.action, None
            action()
        n = min(len(buffer), self.left, 256 * 1024)
        buffer[:n] = b"N" * n
        self.left -= n
        self.sent += n
        return n


def test_operations_reconnect_after_the_server_restarts(make, server, root):
    storage = make()
    storage.save("before.txt", ContentFile(b"before"))
    server.restart()
    assert storage.exists("before.txt")
    storage.save("after.txt", ContentFile(b"after"))
    assert (root / "after.txt").read_bytes() == b"after"
    with storage.open("before.txt") as f:
        assert f.read() == b"before"
    confirm(
        "SFTP",
        "1. Faults: server restart between operations",
        "sshd and its sessions SIGKILLed and restarted under an idle pooled connection: "
        "exists, save and open succeeded on a new connection",
    )


def test_a_read_in_progress_resumes_after_the_server_restarts(make, server):
    storage = make()
    data = os.urandom(12 * 1024 * 1024)
    storage.save("big.bin", ContentFile(data))
    with storage.open("big.bin") as f:
        head = f.read(5 * 1024 * 1024)
        server.restart()
        rest = f.read()
    assert head + rest == data
    confirm(
        "SFTP",
        "1. Faults: server restart mid-download",
        f"sshd restarted after 5 MiB of a {len(data) >> 20} MiB download: resumed at its "
        f"position on a new connection, every byte right",
    )


def test_a_read_resumed_after_a_restart_refuses_a_file_that_changed(make, server, root):
    from storages_base.errors import StorageError

    storage = make(file_overwrite=True)
    storage.save("big.bin", ContentFile(os.urandom(12 * 1024 * 1024)))
    with storage.open("big.bin") as f:
        f.read(5 * 1024 * 1024)
        server.restart()
        (root / "big.bin").write_bytes(b"replaced")
        with pytest.raises(StorageError, match="changed on the server"):
            f.read()
    confirm(
        "SFTP",
        "5. Integrity: resumed download",
        "sshd restarted after 5 MiB of a 12 MiB download and the file replaced meanwhile: "
        "StorageError (changed on the server), never a mix of two files",
    )


def test_a_server_that_stays_down_gives_a_transient_error_quickly(make, server):
    storage = make()
    storage.save("f.txt", ContentFile(b"x"))
    server.stop()
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        storage.exists("f.txt")
    assert time.monotonic() - started < 5  # bounded retries, no endless loop (#1064)
    assert isinstance(info.value, ConnectionError)
    server.start()
    assert storage.exists("f.txt")
    confirm(
        "SFTP",
        "1. Faults: server down",
        "sshd SIGKILLed and left down: TransientError after 3 attempts (backoff 0.1 s, "
        "0.2 s) in under 5 s; the first operation after its restart succeeded",
    )


def test_a_session_that_stops_answering_times_out_and_a_new_one_is_used(make, server):
    storage = make(timeout=1)
    storage.save("f.txt", ContentFile(b"x"))  # leaves one idle connection
    frozen = descendants(server.proc.pid)
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)  # the session hangs; the listener still answers
    try:
        started = time.monotonic()
        assert storage.exists("f.txt")  # not a hang (#1344): 1 s, then a new connection
        assert 0.9 < time.monotonic() - started < 5
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    confirm(
        "SFTP",
        "1. Faults: server stopped (SIGSTOP)",
        f"{len(frozen)} sshd session processes stopped under a pooled connection, "
        f"timeout=1 s: the next exists() answered in 1 to 5 s on a new connection",
    )


def test_a_server_killed_during_an_upload_leaves_the_old_file_intact(make, server, root):
    storage = make(file_overwrite=True)
    storage.save("f.bin", ContentFile(b"the good old content"))
    size, after = 20 * 1024 * 1024, 4 * 1024 * 1024
    stream = KillingStream(size, after, server.stop)
    with pytest.raises(TransientError):
        storage.save("f.bin", stream)
    assert (root / "f.bin").read_bytes() == b"the good old content"
    leftovers = [name for name in os.listdir(root) if name != "f.bin"]
    assert all(name.startswith(".storages-") for name in leftovers)  # hidden, not in place
    server.start()
    assert storage.listdir("") == ([], ["f.bin"])  # reconnects; the partial file is cleaned
    assert os.listdir(root) == ["f.bin"]
    confirm(
        "SFTP",
        "1. Faults: server SIGKILL mid-upload",
        f"sshd killed after {after >> 20} MiB of a {size >> 20} MiB save over an existing "
        f"file: TransientError, old content kept, the temporary file deleted by the first "
        f"connection after the restart",
    )


def test_an_upload_interrupted_by_a_restart_is_retried_when_the_content_can_rewind(
    make, server, root
):
    storage = make(file_overwrite=True)
    storage.save("f.bin", ContentFile(b"old"))
    data = os.urandom(8 * 1024 * 1024)

    class RestartingFile(io.BytesIO):
        restarted = False

        def read(self, size: int | None = -1) -> bytes:
            if not self.restarted and self.tell() >= 2 * 1024 * 1024:
                self.restarted = True
                server.restart()
            return super().read(size)

    storage.save("f.bin", RestartingFile(data))
    assert (root / "f.bin").read_bytes() == data
    assert sorted(os.listdir(root)) == ["f.bin"]
    confirm(
        "SFTP",
        "1. Faults: server restart mid-upload",
        f"sshd restarted after 2 MiB of a {len(data) >> 20} MiB save that can rewind: "
        f"retried on a new connection, whole file stored, no temporary file left",
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, so the server runs out of space (needs root and mount rights)."""
    import subprocess

    path = tmp_path / "small"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_fails_the_save_and_keeps_the_old_file(storage_factory, small_disk):
    from storages_base.errors import StorageError

    storage = storage_factory(root_path=str(small_disk), file_overwrite=True)
    old = os.urandom(512 * 1024)
    storage.save("f.bin", ContentFile(old))
    with pytest.raises(StorageError):
        storage.save("f.bin", ContentFile(os.urandom(3 * 1024 * 1024)))
    assert (small_disk / "f.bin").read_bytes() == old
    assert os.listdir(small_disk) == ["f.bin"]  # the partial upload was removed
    confirm(
        "SFTP",
        "1. Faults: full disk",
        "a 3 MiB save over a 512 KiB file on a 2 MiB tmpfs: StorageError from the failed "
        "write, old content kept, the partial upload deleted",
    )


def test_an_idle_pooled_connection_sends_keepalives(
    sshd: dict[str, Any],
    storage_factory: Callable[..., SFTPStorage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bytes keep flowing on an idle connection (through a counting relay to sshd)."""
    if not sshd.get("host_public"):
        pytest.skip("needs the local test server's host key")
    monkeypatch.setattr(client, "KEEPALIVE_INTERVAL", 1)
    listener = socket.create_server(("127.0.0.1", 0))
    sent = [0]

    def relay() -> None:
        incoming, _ = listener.accept()
        upstream = socket.create_connection(("127.0.0.1", sshd["port"]))

        def pump(source: socket.socket, target: socket.socket, count: bool) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sent[0] += len(data) if count else 0
                    target.sendall(data)

        threading.Thread(target=pump, args=(upstream, incoming, False), daemon=True).start()
        pump(incoming, upstream, True)

    threading.Thread(target=relay, daemon=True).start()
    port = listener.getsockname()[1]
    known_file = Path(sshd["known_host_file"]).with_name("relay_known_hosts")
    known_file.write_text(f"[127.0.0.1]:{port} {sshd['host_public']}\n")
    storage = storage_factory(
        params={**params_for(sshd), "port": port}, known_host_file=str(known_file)
    )
    assert not storage.exists("nothing.txt")
    idle_start = sent[0]
    time.sleep(3)
    assert sent[0] > idle_start  # keepalive messages, with no operation running
    assert not storage.exists("nothing.txt")  # and the connection still works
    listener.close()


# -- the client process killed mid-upload ----------------------------------------------------

#: A child process saving a 1 GiB stream over ``doc.bin``, until the test kills it.
CLIENT = """
import io, json, sys
from storages_base.testing import setup_django
setup_django()
from storages_sftp import SFTPStorage

class Endless(io.RawIOBase):
    left = 1 << 30
    def readable(self): return True
    def readinto(self, buffer):
        count = min(len(buffer), self.left)
        buffer[:count] = b"n" * count
        self.left -= count
        return count

options = json.loads(sys.argv[1])
SFTPStorage(**options).save("doc.bin", Endless())
"""


def test_a_client_killed_mid_upload_leaves_the_old_file_and_only_a_hidden_part(
    sshd, storage_factory, root
):
    import json
    import sys

    from storages_base.testing.reliability import confirm

    storage = storage_factory(file_overwrite=True)
    storage.save("doc.bin", ContentFile(b"the old version"))
    options = {
        "host": sshd["host"],
        "params": params_for(sshd),
        "known_host_file": sshd["known_host_file"],
        "root_path": f"{root}/",
        "file_overwrite": True,
    }
    after = 8 * 1024 * 1024
    code = kill_client_when_part_grows(
        root, [sys.executable, "-c", CLIENT, json.dumps(options)], after
    )
    assert code == -9
    time.sleep(0.2)  # sshd closes the half-written file when it sees the connection end
    with storage.open("doc.bin") as file:
        assert file.read() == b"the old version"
    assert storage.listdir("") == ([], ["doc.bin"])  # the part is hidden from listings
    parts = [name for name in os.listdir(root) if name != "doc.bin"]
    # The process that knew its name is gone: it stays, hidden, short of the full size,
    # never under the final name, until storages_sweep finds it idle (below).
    assert len(parts) == 1
    assert parts[0].startswith(".storages-")
    assert after <= (root / parts[0]).stat().st_size < 1 << 30
    check_swept_a_day_later("storages_sftp.SFTPStorage", options, root)
    confirm(
        "SFTP",
        "1. Faults: client SIGKILL",
        f"client process killed after {after >> 20} MiB of a 1 GiB save over an existing file: "
        f"old content kept, {len(parts)} hidden temporary file left, listdir shows only "
        f"the old file; `manage.py storages_sweep` deletes it once it has been idle a day",
    )


def test_a_stream_that_cannot_be_rewound_is_not_sent_twice(make, server, root):
    storage = make(file_overwrite=True)
    storage.save("f.bin", ContentFile(b"the old version"))
    size, after = 16 * 1024 * 1024, 2 * 1024 * 1024
    stream = KillingStream(size, after, server.restart)  # a RawIOBase: no seek
    with pytest.raises(TransientError):
        storage.save("f.bin", stream)
    assert stream.action is None  # the restart happened
    assert stream.sent < size  # read once, up to the failure: never from the start again
    assert (root / "f.bin").read_bytes() == b"the old version"
    assert storage.listdir("") == ([], ["f.bin"])
    assert os.listdir(root) == ["f.bin"]
    confirm(
        "SFTP",
        "1. Faults: stream that cannot rewind",
        f"sshd restarted after {after >> 20} MiB of a {size >> 20} MiB stream that cannot "
        f"rewind: TransientError at once, the stream not read again, old content kept, "
        f"no temporary file left",
    )


def test_retries_are_bounded_with_backoff_and_the_default_timeout_is_finite(sshd, storage_factory):
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[float] = []

    def hang_up() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(time.monotonic())
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    storage = storage_factory(params={**params_for(sshd), "port": listener.getsockname()[1]})
    try:
        with pytest.raises(TransientError):
            storage.exists("x.txt")
    finally:
        listener.close()
    assert len(accepted) == client.ATTEMPTS == 3  # bounded
    gaps = [b - a for a, b in itertools.pairwise(accepted)]
    for gap, backoff in zip(gaps, (0.1, 0.2), strict=True):
        assert gap >= backoff * 0.9, gaps  # each wait doubles
    # Without a timeout in params, every wait of a connection is 30 s at most.
    params = {key: value for key, value in params_for(sshd).items() if key != "timeout"}
    default = storage_factory(params=params)
    assert not default.exists("x.txt")
    conn = default.sessions.pool.acquire()
    assert conn.sftp.get_channel().gettimeout() == client.DEFAULT_TIMEOUT == 30
    default.sessions.pool.release(conn)
    confirm(
        "SFTP",
        "1. Faults: retries and timeouts",
        f"a server that hangs up at once: {len(accepted)} connections, waits of 0.1, 0.2 s "
        f"between them, then TransientError; default timeout 30 s for connect, banner, "
        f"auth, session channel and every SFTP reply (params['timeout'] sets them all)",
    )
