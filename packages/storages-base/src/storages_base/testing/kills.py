"""SIGKILL in the middle of an upload, of the server and of the client (issue 16, check 1).

* :class:`ServerProcess`: a local server run as a child process, so a test can SIGKILL it
  and start it again on the same port with the same data folder.
* :class:`Tripwire`: the content of a large file (a known pattern, :func:`pattern`) that
  calls an action once the backend has read past a point: the kill then lands mid-upload,
  after whole parts were sent, without timing guesses.
* :func:`kill_client_mid_upload`: a child Python process saves a large file through a
  storage built from a JSON spec; once it has read past the point it says so and waits,
  and the test SIGKILLs it. What the storage leaves behind is then the test's to check.
* :func:`kill_client_when_part_grows`: for a server on this machine's disk (FTP, SFTP),
  SIGKILL a client once the server's hidden temporary file holds so many bytes.
* :func:`check_server_killed_mid_upload`, :func:`check_client_killed_mid_upload`: the
  two kills over an existing file and what a user must then see, the same for every provider.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, cast

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from ..errors import StorageError
from .servers import free_port, wait_port

__all__ = [
    "OLD_CONTENT",
    "ServerProcess",
    "Tripwire",
    "check_client_killed_mid_upload",
    "check_server_killed_mid_upload",
    "check_swept_a_day_later",
    "kill_client_mid_upload",
    "kill_client_when_part_grows",
    "pattern",
    "sized",
]

#: What ``big.bin`` holds before a kill; it must still hold it afterwards.
OLD_CONTENT = b"old content"

_SEED = bytes(range(251))  # a prime period: no part of a file equals another part


def pattern(size: int, start: int = 0) -> bytes:
    """``size`` bytes of the test pattern from offset ``start``."""
    offset = start % len(_SEED)
    repeats = (offset + size) // len(_SEED) + 1
    return (_SEED * repeats)[offset : offset + size]


class Tripwire(io.RawIOBase):
    """``size`` bytes of :func:`pattern`; ``action`` runs (once) when a read goes past ``at``."""

    def __init__(self, size: int, at: int, action: Callable[[], None]) -> None:
        super().__init__()
        self.size, self.at, self.action = size, at, action
        self.position = 0
        self.tripped = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.position >= self.at and not self.tripped:
            self.tripped = True
            self.action()
        count = min(len(view), self.size - self.position)
        if not self.tripped:
            count = min(count, self.at - self.position)
        view[:count] = pattern(count, self.position)
        self.position += count
        return count


def sized(stream: io.IOBase, size: int, name: str = "big.bin") -> File[bytes]:
    """A Django ``File`` over a non-seekable ``stream`` whose size is known up front."""
    content = File(cast(IO[bytes], stream), name=name)
    content.size = size
    return content


class ServerProcess:
    """A server in a child process on a fixed port: ``kill()`` (SIGKILL) and ``start()`` again.

    ``command(port)`` is its argument list; ``ready()`` (default: the port accepts
    connections) says when it serves.
    """

    def __init__(
        self,
        command: Callable[[int], Sequence[str]],
        *,
        env: dict[str, str] | None = None,
        ready: Callable[[ServerProcess], None] | None = None,
        port: int | None = None,
    ) -> None:
        self.command, self.env, self.ready = command, env, ready
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ServerProcess:
        for attempt in range(3):  # the killed one's port may linger a moment
            self.proc = subprocess.Popen(
                list(self.command(self.port)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})},
            )
            try:
                if self.ready is not None:
                    self.ready(self)
                else:
                    wait_port(self.port, self.proc)
                break
            except RuntimeError:  # it exited at once
                if attempt == 2:
                    raise
                time.sleep(0.5)
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up, as a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kill_client_mid_upload(
    spec: dict[str, Any], name: str, size: int, at: int, timeout: float = 60
) -> None:
    """Run a client that saves ``size`` bytes at ``name`` and SIGKILL it once it read ``at``.

    ``spec``: ``{"class": "package.Storage", "options": {...}, "env": {...},
    "attributes": {...}}`` (JSON; ``attributes`` are set on the storage, e.g. a part size).
    Raises if the client ended by itself or never got that far within ``timeout``.
    """
    job = json.dumps({**spec, "name": name, "size": size, "at": at})
    env = {**os.environ, **spec.get("env", {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__, job],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = _read_line(proc, timeout)
        if line != "tripped":
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"the client did not reach {at} bytes: {line!r} {err[-2000:]!r}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def kill_client_when_part_grows(
    folder: Path, command: list[str], after: int, prefix: str = ".storages-"
) -> int:
    """Run ``command``; SIGKILL it once a temporary file in ``folder`` holds ``after`` bytes.

    Returns the client's exit code (``-9`` when the kill landed).
    """
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and child.poll() is None:
            sizes = [p.stat().st_size for p in folder.iterdir() if p.name.startswith(prefix)]
            if sizes and max(sizes) >= after:
                break
            time.sleep(0.005)
        else:
            assert child.stderr is not None
            raise AssertionError(f"the upload never started: {child.stderr.read()!r}")
    finally:
        child.kill()
        child.wait()
    return child.returncode


def check_server_killed_mid_upload(
    storage: Storage,
    server: ServerProcess,
    size: int,
    at: int,
    bound: float,
    *,
    restart_first: bool = False,
) -> None:
    """SIGKILL ``server`` after ``at`` of ``size`` bytes saved over ``big.bin``, start it again.

    The caller sees a ``StorageError`` naming the file within ``bound`` seconds; the old
    content stays, nothing partial sits beside it, and the same storage reads and saves
    again. ``restart_first``: restart cleanly once the old content is saved, for a server
    that writes what it stored out only on a clean stop (Azurite, every 5 s otherwise).
    """
    storage.save("big.bin", ContentFile(OLD_CONTENT))
    if restart_first:
        server.stop()
        server.start()
    started = time.monotonic()
    with pytest.raises(StorageError) as failure:
        storage.save("big.bin", sized(Tripwire(size, at, server.kill), size))
    assert time.monotonic() - started < bound, "the failure took too long to reach the caller"
    assert failure.value.name == "big.bin"

    server.start()  # same port, same folder
    started = time.monotonic()
    with storage.open("big.bin") as file:  # the same storage reconnects by itself
        assert file.read() == OLD_CONTENT
    assert time.monotonic() - started < bound
    assert storage.listdir("") == ([], ["big.bin"])  # no partial file beside it
    storage.save("big.bin", sized(io.BytesIO(pattern(size)), size))
    with storage.open("big.bin") as file:
        assert file.read() == pattern(size)


def check_client_killed_mid_upload(
    storage: Storage, spec: dict[str, Any], size: int, at: int
) -> None:
    """Two clients (``spec``, see :func:`kill_client_mid_upload`) SIGKILLed after ``at``
    bytes, one saving over ``big.bin``, one to ``new.bin``: the old content stays and
    nothing appears under the new name."""
    storage.save("big.bin", ContentFile(OLD_CONTENT))
    kill_client_mid_upload(spec, "big.bin", size, at=at)
    kill_client_mid_upload(spec, "new.bin", size, at=at)

    with storage.open("big.bin") as file:
        assert file.read() == OLD_CONTENT
    assert not storage.exists("new.bin")
    assert storage.listdir("") == ([], ["big.bin"])


def check_swept_a_day_later(backend: str, options: dict[str, Any], folder: Path) -> None:
    """The hidden part a killed client left in ``folder`` (the only one there) is kept by
    ``manage.py storages_sweep`` while it could be a live upload, listed by ``--dry-run``
    and deleted once it has been idle a day; every other file stays."""
    from django.core.management import call_command
    from django.test import override_settings

    from ..management.commands import storages_sweep

    def sweep(*args: str) -> str:
        out = io.StringIO()
        call_command(storages_sweep.Command(), *args, stdout=out, no_color=True)
        return out.getvalue()

    (part,) = [path for path in folder.iterdir() if path.name.startswith(".storages-")]
    others = sorted(path.name for path in folder.iterdir() if path != part)
    with override_settings(STORAGES={"files": {"BACKEND": backend, "OPTIONS": options}}):
        assert sweep() == "files: 0 abandoned upload(s) deleted.\n"  # it may be in progress
        a_day_ago = time.time() - 25 * 3600
        os.utime(part, (a_day_ago, a_day_ago))
        found = f"files: {part.name}\n"
        assert sweep("files", "--dry-run") == found + "files: 1 abandoned upload(s) found.\n"
        assert part.exists()
        assert sweep("files") == found + "files: 1 abandoned upload(s) deleted.\n"
    assert not part.exists()
    assert sorted(path.name for path in folder.iterdir()) == others


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return f"nothing after {timeout} s"
    return proc.stdout.readline().decode().strip()


def _client(job: dict[str, Any]) -> None:
    """The child: save the file; at the tripwire, say so and wait to be killed."""
    from .django import setup_django

    setup_django()
    module, _, cls = job["class"].rpartition(".")
    storage = getattr(importlib.import_module(module), cls)(**job["options"])
    for attribute, value in job.get("attributes", {}).items():
        setattr(storage, attribute, value)

    def trip() -> None:
        print("tripped", flush=True)
        time.sleep(3600)

    content = File(cast(IO[bytes], Tripwire(job["size"], job["at"], trip)), name=job["name"])
    content.size = job["size"]
    storage.save(job["name"], content)
    print("saved", flush=True)


if __name__ == "__main__":
    _client(json.loads(sys.argv[1]))
