"""Faults on a real server process: killed and restarted between operations and mid-upload.

The server runs as a subprocess (``python -m pyftpdlib``) so it can be killed with
SIGKILL — no goodbye on any connection, partial files left as they were.
"""

import io
import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile, File

from storages_base.errors import TransientError
from storages_base.testing import free_port, wait_port
from storages_base.testing.kills import check_swept_a_day_later, kill_client_when_part_grows
from storages_base.testing.reliability import confirm
from storages_ftp import FTPStorage

pytestmark = pytest.mark.slow


class ServerProcess:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pyftpdlib",
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-d",
                str(self.home),
                "-u",
                "user",
                "-P",
                "pw",
                "-w",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    @property
    def location(self) -> str:
        return f"ftp://user:pw@127.0.0.1:{self.port}/"


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path)
    process.start()
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.kill()


class KillingSource(io.RawIOBase):
    """Upload content that calls ``at_fault`` once, after ``after`` bytes were read."""

    def __init__(self, size: int, after: int, at_fault) -> None:
        super().__init__()
        self.size, self.after, self.at_fault = size, after, at_fault
        self.position = 0
        self.faults = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        if self.position >= self.after and self.faults == 0:
            self.faults += 1
            self.at_fault()
        count = min(len(buffer), self.size - self.position)
        buffer[:count] = b"n" * count
        self.position += count
        return count


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_restart_between_operations_is_reconnected_transparently(server):
    storage = FTPStorage(location=server.location)
    storage.save("before.txt", ContentFile(b"before"))
    assert storage.client.pool.idle == 1
    server.restart()  # the idle session is now dead
    assert storage.exists("before.txt")
    assert storage.save("after.txt", ContentFile(b"after")) == "after.txt"
    with storage.open("before.txt") as file:
        assert file.read() == b"before"
    confirm(
        "FTP",
        "1. Faults: server restart between operations",
        "server SIGKILLed and restarted under an idle pooled session: exists, save and open "
        "succeeded on a new session",
    )


def test_a_server_that_stays_down_gives_a_transient_error_after_bounded_retries(server):
    storage = FTPStorage(location=server.location, retries=2)
    storage.save("x.txt", ContentFile(b"x"))
    server.kill()
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        storage.exists("x.txt")
    assert isinstance(caught.value, ConnectionError)
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert "after 3 attempt(s)" in str(caught.value)
    assert time.monotonic() - started < 3
    server.start()
    assert storage.exists("x.txt")  # and it recovers once the server is back
    confirm(
        "FTP",
        "1. Faults: server down",
        "server SIGKILLed and left down, retries=2: TransientError naming host:port after "
        "3 attempts (backoff 0.1 s, 0.2 s) in under 3 s; the first operation after its "
        "restart succeeded",
    )


def test_a_server_killed_during_an_upload_leaves_the_old_file_intact(server):
    storage = FTPStorage(location=server.location, allow_overwrite=True, retries=1)
    storage.save("doc.bin", ContentFile(b"the good version"))
    size, after = 64 * 1024 * 1024, 8 * 1024 * 1024
    source = KillingSource(size, after=after, at_fault=server.kill)
    with pytest.raises(TransientError):
        storage.save("doc.bin", File(io.BufferedReader(source), name="doc.bin"))
    # The server died holding half an upload under its temporary name, never the real one.
    assert (server.home / "doc.bin").read_bytes() == b"the good version"
    leftovers = [name for name in names_in(server.home) if name != "doc.bin"]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".storages-")
    assert (server.home / leftovers[0]).stat().st_size < 64 * 1024 * 1024

    server.start()
    with storage.open("doc.bin") as file:
        assert file.read() == b"the good version"
    # The first new session deleted the temporary file the dead one left behind.
    assert names_in(server.home) == ["doc.bin"]
    confirm(
        "FTP",
        "1. Faults: server SIGKILL mid-upload",
        f"server killed after {after >> 20} MiB of a {size >> 20} MiB save over an existing "
        f"file: TransientError, old content kept, the temporary file deleted by the first "
        f"session after the restart",
    )


def test_a_restart_during_an_upload_is_retried_on_a_new_session(server):
    storage = FTPStorage(location=server.location, allow_overwrite=True)
    storage.save("doc.bin", ContentFile(b"the old version"))
    size = 32 * 1024 * 1024
    source = KillingSource(size, after=4 * 1024 * 1024, at_fault=server.restart)
    assert storage.save("doc.bin", File(io.BufferedReader(source), name="doc.bin")) == "doc.bin"
    assert source.faults == 1
    assert (server.home / "doc.bin").stat().st_size == size
    assert names_in(server.home) == ["doc.bin"]  # no temporary file of the first attempt
    confirm(
        "FTP",
        "1. Faults: server restart mid-upload",
        f"server restarted after 4 MiB of a {size >> 20} MiB save that can rewind: retried "
        f"once on a new session, whole file stored, no temporary file left",
    )


def test_a_stream_that_cannot_be_rewound_is_not_sent_twice(server):
    class OneShot(KillingSource):
        def seekable(self):
            return False

    storage = FTPStorage(location=server.location, allow_overwrite=True)
    storage.save("doc.bin", ContentFile(b"old"))
    source = OneShot(16 * 1024 * 1024, after=2 * 1024 * 1024, at_fault=server.restart)
    with pytest.raises(TransientError):
        storage.save("doc.bin", File(io.BufferedReader(source), name="doc.bin"))
    assert source.faults == 1
    assert source.position < source.size  # read once, up to the fault: never sent again
    assert (server.home / "doc.bin").read_bytes() == b"old"
    assert names_in(server.home) == ["doc.bin"]
    confirm(
        "FTP",
        "1. Faults: stream that cannot rewind",
        "server restarted after 2 MiB of a 16 MiB stream that cannot rewind: TransientError "
        "at once, the stream not read again, old content kept, no temporary file left",
    )


def test_a_server_that_stops_answering_times_out_and_is_replaced_when_it_answers_again(server):
    import signal

    storage = FTPStorage(location=server.location, timeout=1, retries=1)
    storage.save("x.txt", ContentFile(b"x"))
    server.proc.send_signal(signal.SIGSTOP)  # connections stay open, nothing answers
    try:
        started = time.monotonic()
        with pytest.raises(TransientError, match="after 2 attempt"):
            storage.exists("x.txt")
        assert time.monotonic() - started < 6  # bounded by timeout x attempts, not forever
    finally:
        server.proc.send_signal(signal.SIGCONT)
    assert storage.exists("x.txt")
    with storage.open("x.txt") as file:
        assert file.read() == b"x"
    confirm(
        "FTP",
        "1. Faults: server stopped (SIGSTOP)",
        "server process stopped with a pooled session open, timeout=1 s, retries=1: "
        "TransientError after 2 attempts in under 6 s; after SIGCONT, exists and open "
        "succeeded",
    )


def test_a_server_killed_during_a_download_is_an_error_never_a_short_file(server):
    data = bytes(range(256)) * (64 * 1024 * 4)  # 64 MiB
    (server.home / "big.bin").write_bytes(data)
    storage = FTPStorage(location=server.location)
    received = bytearray()
    # The failure comes mid-stream, after some reads succeeded.
    with pytest.raises(TransientError), storage.open("big.bin", "rb") as file:  # noqa: PT012
        received += file.read(1024 * 1024)
        server.kill()
        while chunk := file.read(1024 * 1024):
            received += chunk
    assert len(received) < len(data)
    assert bytes(received) == data[: len(received)]
    confirm(
        "FTP",
        "1. Faults: server SIGKILL mid-download",
        f"server killed after 1 MiB of a {len(data) >> 20} MiB download: TransientError, "
        f"the bytes read before it correct, never a short file",
    )


def test_an_upload_to_a_server_that_stops_reading_times_out_and_keeps_the_old_file(server):
    import signal

    storage = FTPStorage(location=server.location, timeout=1, retries=1, allow_overwrite=True)
    storage.save("doc.bin", ContentFile(b"the old version"))
    stop = lambda: server.proc.send_signal(signal.SIGSTOP)  # noqa: E731
    source = KillingSource(256 * 1024 * 1024, after=1024 * 1024, at_fault=stop)
    started = time.monotonic()
    try:
        with pytest.raises(TransientError, match="after 2 attempt"):
            storage.save("doc.bin", File(io.BufferedReader(source), name="doc.bin"))
        elapsed = time.monotonic() - started
        assert elapsed < 15, elapsed  # each attempt timed out: it did not block forever
    finally:
        server.proc.send_signal(signal.SIGCONT)
    with storage.open("doc.bin") as file:
        assert file.read() == b"the old version"
    confirm(
        "FTP",
        "1. Faults: server stops reading an upload",
        "server process stopped 1 MiB into a 256 MiB save, timeout=1 s, retries=1: "
        "TransientError after 2 attempts in under 15 s, old content kept",
    )


# -- the client process killed mid-upload ----------------------------------------------------

#: A child process saving a 1 GiB stream over ``doc.bin``, until the test kills it.
CLIENT = """
import io, sys
from storages_base.testing import setup_django
setup_django()
from django.core.files.base import File
from storages_ftp import FTPStorage

class Endless(io.RawIOBase):
    size, position = 1 << 30, 0
    def readable(self): return True
    def seekable(self): return True
    def tell(self): return self.position
    def seek(self, offset, whence=0):
        self.position = offset + (self.size if whence == 2 else 0)
        return self.position
    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.position)
        buffer[:count] = b"n" * count
        self.position += count
        return count

storage = FTPStorage(location=sys.argv[1], allow_overwrite=True)
storage.save("doc.bin", File(io.BufferedReader(Endless()), name="doc.bin"))
"""


def test_a_client_killed_mid_upload_leaves_the_old_file_and_only_a_hidden_part(server):
    from storages_base.testing.reliability import confirm

    storage = FTPStorage(location=server.location)
    storage.save("doc.bin", ContentFile(b"the old version"))
    after = 8 * 1024 * 1024
    code = kill_client_when_part_grows(
        server.home, [sys.executable, "-c", CLIENT, server.location], after
    )
    assert code == -9
    time.sleep(0.2)  # the server closes the half-written file when it sees the EOF
    with storage.open("doc.bin") as file:
        assert file.read() == b"the old version"
    assert storage.listdir("") == ([], ["doc.bin"])  # the part is hidden from listings
    parts = [name for name in names_in(server.home) if name != "doc.bin"]
    # The process that knew its name is gone: it stays, hidden, short of the full size,
    # never under the final name, until storages_sweep finds it idle (below).
    assert len(parts) == 1
    assert parts[0].startswith(".storages-")
    assert after <= (server.home / parts[0]).stat().st_size < 1 << 30
    check_swept_a_day_later("storages_ftp.FTPStorage", {"location": server.location}, server.home)
    confirm(
        "FTP",
        "1. Faults: client SIGKILL",
        f"client process killed after {after >> 20} MiB of a 1 GiB save over an existing file: "
        f"old content kept, {len(parts)} hidden temporary file left, listdir shows only "
        f"the old file; `manage.py storages_sweep` deletes it once it has been idle a day",
    )


# -- timeouts and retries ------------------------------------------------------------------


class HangUp:
    """A listener on 127.0.0.1 that accepts each connection and closes it at once."""

    def __init__(self) -> None:
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[float] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(time.monotonic())
            conn.close()


def test_retries_are_bounded_with_backoff_and_the_default_timeout_is_finite(server):
    hangup = HangUp()
    try:
        storage = FTPStorage(location=f"ftp://u:p@127.0.0.1:{hangup.port}/", retries=3)
        with pytest.raises(TransientError, match="after 4 attempt"):
            storage.exists("x.txt")
    finally:
        hangup.listener.close()
    gaps = [b - a for a, b in itertools.pairwise(hangup.accepted)]
    assert len(hangup.accepted) == 4  # 1 + retries, no more
    for gap, backoff in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert gap >= backoff * 0.9, gaps  # each wait doubles
    # Without a timeout setting, every socket waits 30 s at most, never forever.
    default = FTPStorage(location=server.location)
    assert default.timeout == 30
    default.exists("x.txt")
    session = default.client.pool.acquire()
    assert session.sock.gettimeout() == 30
    default.client.pool.release(session)
    confirm(
        "FTP",
        "1. Faults: retries and timeouts",
        f"a server that hangs up at once, retries=3: {len(hangup.accepted)} connections, "
        f"waits of {', '.join(f'{b:g}' for b in (0.1, 0.2, 0.4))} s between them, then "
        f"TransientError; default timeout 30 s on every socket (the option: timeout)",
    )
