"""The one-request operations (exists, size, get_modified_time, delete) on an idle pooled
connection: ``Sessions.run`` runs them in its own frame, without the general path's
layers (benchmarks/README.md). The same checks hold there: a dead connection is never
used, a connection dropped mid-request is retried once on a new one without sending the
request again on the old, errors keep their meaning and the connection stays pooled.

Requests are counted on the wire as in test_requests; a dropped connection is a real
one (its socket shut, or an answer lost on the way in), against the real sshd.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from django.core.files.base import ContentFile
from paramiko import sftp as codes
from paramiko.common import MSG_CHANNEL_DATA

from storages_base.errors import PermissionDeniedError
from storages_sftp import SFTPStorage, client
from storages_sftp.testing import SSHServer

from .conftest import channel_data, params_for


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per new SSH connection a storage opens."""
    made: list[int] = []
    connect = client.connect
    monkeypatch.setattr(client, "connect", lambda settings: made.append(1) or connect(settings))
    return made


def _warm(storage: SFTPStorage) -> client.Connection:
    """One idle connection in the pool (the common case), returned."""
    storage.exists("warm-up")
    ((conn, _since),) = storage.sessions.pool._idle
    return conn


def _idle(storage: SFTPStorage) -> list[client.Connection]:
    return [conn for conn, _since in storage.sessions.pool._idle]


def _on_first(kind: int, monkeypatch: pytest.MonkeyPatch, action: Callable[[Any], None]) -> None:
    """Run ``action(transport)`` as the first request of ``kind`` goes out, before it is sent."""
    send = paramiko.Transport._send_message
    armed = [True]

    def sending(self: paramiko.Transport, message: Any) -> None:
        data = channel_data(message)
        if armed[0] and data is not None and data[1][4] == kind:
            armed[0] = False
            action(self)
        return send(self, message)

    monkeypatch.setattr(paramiko.Transport, "_send_message", sending)


def _lose_first_answer(kind: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer to the first request of ``kind`` is lost with its connection: the server
    has done the request, the client never reads its answer (the transport closes as the
    answer comes in, as when the network drops it)."""
    send = paramiko.Transport._send_message
    table = paramiko.Transport._channel_handler_table  # how the transport thread feeds
    feed = table[MSG_CHANNEL_DATA]
    state = {"sent": False, "lost": False}

    def sending(self: paramiko.Transport, message: Any) -> None:
        data = channel_data(message)
        if not state["sent"] and data is not None and data[1][4] == kind:
            state["sent"] = True
        return send(self, message)

    def feeding(self: paramiko.Channel, m: Any) -> None:
        if state["sent"] and not state["lost"]:
            state["lost"] = True
            self.transport.close()  # type: ignore[union-attr]
            return
        feed(self, m)

    monkeypatch.setattr(paramiko.Transport, "_send_message", sending)
    monkeypatch.setitem(table, MSG_CHANNEL_DATA, feeding)


def test_one_request_each_on_the_idle_connection(storage, requests, logins):
    storage.save("f.txt", ContentFile(b"hello"))
    conn = _warm(storage)
    logins.clear()
    requests.clear()
    assert storage.exists("f.txt")
    assert not storage.exists("missing.txt")
    assert storage.size("f.txt") == 5
    assert storage.get_modified_time("f.txt").year > 2000
    storage.delete("f.txt")
    storage.delete("f.txt")  # missing: quiet, as Django's delete()
    assert not storage.exists("f.txt")
    assert requests == Counter({"STAT": 5, "REMOVE": 2})
    assert (_idle(storage), logins) == ([conn], [])


def test_a_missing_file_keeps_its_meaning_and_the_connection(storage, requests, logins):
    conn = _warm(storage)
    logins.clear()
    requests.clear()
    with pytest.raises(FileNotFoundError):
        storage.size("missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("missing.txt")
    storage.delete("missing.txt")
    assert requests == Counter({"STAT": 2, "REMOVE": 1})
    assert (_idle(storage), logins) == ([conn], [])


@pytest.mark.parametrize("drop", ["request", "answer"])
def test_a_connection_dropped_mid_delete_is_retried_once_on_a_new_one(
    storage, root, requests, logins, monkeypatch, drop
):
    """The REMOVE lost with its connection (before the server saw it, or after it did
    it and before its answer came back) is sent once more, on a new connection, and
    the delete succeeds: never a third REMOVE, never the old connection again."""
    storage.save("f.txt", ContentFile(b"hello"))
    dropped = _warm(storage)
    logins.clear()
    if drop == "request":
        _on_first(codes.CMD_REMOVE, monkeypatch, lambda t: t.sock.shutdown(socket.SHUT_RDWR))
    else:
        _lose_first_answer(codes.CMD_REMOVE, monkeypatch)
    requests.clear()
    storage.delete("f.txt")
    assert not (root / "f.txt").exists()
    assert requests == Counter({"REMOVE": 2})
    assert len(logins) == 1
    assert not dropped.alive
    assert _idle(storage) != [dropped]
    assert len(_idle(storage)) == 1


def test_a_connection_dropped_mid_stat_is_retried_once_and_answers(
    storage, requests, logins, monkeypatch
):
    storage.save("f.txt", ContentFile(b"hello"))
    dropped = _warm(storage)
    logins.clear()
    _lose_first_answer(codes.CMD_STAT, monkeypatch)
    requests.clear()
    assert storage.size("f.txt") == 5
    assert requests == Counter({"STAT": 2})
    assert len(logins) == 1
    assert _idle(storage) != [dropped]


def test_a_connection_dead_while_idle_is_never_used(storage, requests, logins):
    """The liveness check runs before the idle connection is lent: no request goes
    out on a closed one, and the operation costs one request on a new connection."""
    storage.save("f.txt", ContentFile(b"hello"))
    dead = _warm(storage)
    logins.clear()
    dead.ssh.get_transport().close()
    requests.clear()
    storage.delete("f.txt")
    assert requests == Counter({"REMOVE": 1})
    assert len(logins) == 1
    assert _idle(storage) != [dead]
    assert not storage.exists("f.txt")


def test_a_connection_that_stays_down_gives_a_transient_error_after_the_retries(
    storage, requests, logins, monkeypatch
):
    from storages_base.errors import TransientError
    from storages_sftp.client import ATTEMPTS

    storage.save("f.txt", ContentFile(b"hello"))
    _warm(storage)
    logins.clear()
    send = paramiko.Transport._send_message

    def cut(self: paramiko.Transport, message: Any) -> None:
        data = channel_data(message)
        if data is not None and data[1][4] == codes.CMD_REMOVE:
            self.sock.shutdown(socket.SHUT_RDWR)
        return send(self, message)

    monkeypatch.setattr(paramiko.Transport, "_send_message", cut)
    monkeypatch.setattr("storages_base.remote.time.sleep", lambda seconds: None)
    requests.clear()
    with pytest.raises(TransientError):
        storage.delete("f.txt")
    assert requests == Counter({"REMOVE": ATTEMPTS})  # one per connection
    assert len(logins) == ATTEMPTS - 1


@pytest.fixture(scope="module")
def read_only_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An sshd whose SFTP server refuses every write (``internal-sftp -R``): its answer
    to a REMOVE is "permission denied", even to root."""
    server = SSHServer(tmp_path_factory.mktemp("sshd-ro"), subsystem="internal-sftp -R")
    server.start()
    try:
        yield server.address()
    finally:
        server.stop()


def test_a_permission_error_is_mapped_and_keeps_the_connection(
    read_only_sshd, root: Path, requests, logins
):
    (root / "f.txt").write_bytes(b"hello")
    storage = SFTPStorage(
        host="127.0.0.1",
        params=params_for(read_only_sshd),
        known_host_file=read_only_sshd["known_host_file"],
        root_path=f"{root}/",
    )
    try:
        conn = _warm(storage)
        logins.clear()
        requests.clear()
        with pytest.raises(PermissionDeniedError) as info:
            storage.delete("f.txt")
        assert isinstance(info.value, PermissionError)
        assert (info.value.name, info.value.operation) == ("f.txt", "delete")
        assert (root / "f.txt").read_bytes() == b"hello"
        # Not retried (the server answered); the STAT is remove()'s look for a folder,
        # which a server whose unlink() says EPERM for folders also refuses this way.
        assert requests == Counter({"REMOVE": 1, "STAT": 1})
        assert storage.size("f.txt") == 5  # the same connection goes on
        assert (_idle(storage), logins) == ([conn], [])
    finally:
        storage.close()


def test_a_request_is_held_while_a_key_exchange_is_under_way(storage, requests):
    """Requests go out as ``_send_user_message`` sends them: not during a key exchange
    (paramiko clears ``clear_to_send`` under its lock for one), and as soon as it ends."""
    storage.save("f.txt", ContentFile(b"hello"))
    transport = _warm(storage).ssh.get_transport()
    requests.clear()
    with transport.clear_to_send_lock:  # as paramiko's _send_kex_init does
        transport.clear_to_send.clear()
    sizes: list[int] = []
    worker = threading.Thread(target=lambda: sizes.append(storage.size("f.txt")))
    worker.start()
    time.sleep(0.3)
    assert (requests, sizes, worker.is_alive()) == (Counter(), [], True)
    transport.clear_to_send.set()
    worker.join(10)
    assert (requests, sizes) == (Counter({"STAT": 1}), [5])


def test_operations_go_on_across_a_real_key_exchange(storage, logins):
    storage.save("f.txt", ContentFile(b"hello"))
    transport = _warm(storage).ssh.get_transport()
    logins.clear()
    answers: list[int] = []

    def work() -> None:
        for _ in range(300):
            answers.append(storage.size("f.txt"))

    worker = threading.Thread(target=work)
    worker.start()
    for _ in range(3):
        transport.renegotiate_keys()
    worker.join(30)
    assert answers == [5] * 300
    assert logins == []
