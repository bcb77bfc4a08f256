from storages_base.testing import setup_django
from storages_base.testing.servers import server_missing

setup_django()

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import paramiko  # noqa: E402
import pytest  # noqa: E402
from paramiko import sftp as codes  # noqa: E402
from paramiko.common import MSG_CHANNEL_DATA  # noqa: E402

from storages_sftp import SFTPStorage  # noqa: E402
from storages_sftp.testing import SSHD_BINARY, SSHServer  # noqa: E402

#: Reuse a running server instead of starting one: a JSON object with host, port,
#: username, key_filename and known_host_file (tests that look at the server's disk
#: or restart it are skipped then).
SERVER_ENV = "STORAGES_SFTP_TEST_SERVER"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A private OpenSSH sshd on 127.0.0.1 (or the server named in the env var)."""
    if os.environ.get(SERVER_ENV):
        yield {**json.loads(os.environ[SERVER_ENV]), "server": None}
        return
    if not os.path.exists(SSHD_BINARY):
        server_missing(f"{SSHD_BINARY} is missing: apt-get install openssh-server to run these")
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    try:
        yield server.address()
    finally:
        server.stop()


@pytest.fixture
def local_sshd(sshd: dict[str, Any]) -> SSHServer:
    """The server object, for tests that look at its disk; skipped for a reused server."""
    if sshd["server"] is None:
        pytest.skip(f"the server from {SERVER_ENV} is not on this machine's disk")
    return sshd["server"]  # type: ignore[no-any-return]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The storage root on the server's disk (sshd runs on this machine)."""
    path = tmp_path / "root"
    path.mkdir()
    return path


def params_for(address: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "port": address["port"],
        "username": address["username"],
        "key_filename": address["key_filename"],
        "look_for_keys": False,
        "allow_agent": False,
        "timeout": 10,
        **extra,
    }


@pytest.fixture
def storage_factory(sshd: dict[str, Any], root: Path) -> Iterator[Callable[..., SFTPStorage]]:
    """Build storages on the test server, rooted in a fresh folder; close them after."""
    made: list[SFTPStorage] = []

    def factory(**options: Any) -> SFTPStorage:
        options.setdefault("host", sshd["host"])
        options.setdefault("params", params_for(sshd))
        options.setdefault("known_host_file", sshd["known_host_file"])
        options.setdefault("root_path", f"{root}/")
        storage = SFTPStorage(**options)
        made.append(storage)
        return storage

    yield factory
    for storage in made:
        storage.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def storage(storage_factory: Callable[..., SFTPStorage]) -> SFTPStorage:
    return storage_factory()


NAMES = {
    getattr(codes, name): name[4:]
    for name in dir(codes)
    if name.startswith("CMD_") and isinstance(getattr(codes, name), int)
}


def channel_data(message: Any) -> tuple[int, bytes] | None:
    """The channel and data of a CHANNEL_DATA message; None for any other message."""
    raw = message.asbytes()
    if raw[0] != MSG_CHANNEL_DATA:
        return None
    channel, length = struct.unpack_from(">II", raw, 1)
    return channel, raw[9 : 9 + length]


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The SFTP requests sent from now on, by type, read on the wire (test_requests)."""
    seen: Counter[str] = Counter()
    streams: dict[tuple[int, int], bytearray] = {}
    original = paramiko.Transport._send_message

    def recording(self: paramiko.Transport, message: Any) -> None:
        data = channel_data(message)
        if data is not None:
            stream = streams.setdefault((id(self), data[0]), bytearray())
            stream += data[1]
            while len(stream) >= 5 and len(stream) >= 4 + struct.unpack_from(">I", stream)[0]:
                kind = NAMES.get(stream[4], str(stream[4]))
                if kind != "INIT":
                    seen[kind] += 1
                del stream[: 4 + struct.unpack_from(">I", stream)[0]]
        return original(self, message)

    monkeypatch.setattr(paramiko.Transport, "_send_message", recording)
    return seen
