"""How many SFTP requests each operation costs (deterministic, so asserted).

paramiko's ``SFTPClient._async_request`` (every request goes through it) is wrapped
to record the request types and then does its real work: nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter

import paramiko
import pytest
from django.core.files.base import ContentFile
from paramiko import sftp as codes

NAMES = {
    getattr(codes, name): name[4:]
    for name in dir(codes)
    if name.startswith("CMD_") and isinstance(getattr(codes, name), int)
}


@pytest.fixture
def requests(monkeypatch):
    seen: Counter[str] = Counter()
    original = paramiko.SFTPClient._async_request

    def recording(self, fileobj, t, *args):
        seen[NAMES.get(t, str(t))] += 1
        return original(self, fileobj, t, *args)

    monkeypatch.setattr(paramiko.SFTPClient, "_async_request", recording)
    return seen


def test_saving_a_small_file_on_a_warm_connection_costs_four_requests(storage, requests):
    storage.save("d/first.txt", ContentFile(b"warm up the folder check"))
    requests.clear()
    storage.save("d/second.txt", ContentFile(b"x"))
    assert requests == Counter({"OPEN": 1, "WRITE": 1, "CLOSE": 1, "RENAME": 1})


def test_overwriting_uses_the_atomic_posix_rename(storage_factory, requests):
    storage = storage_factory(file_overwrite=True)
    storage.save("f.txt", ContentFile(b"one"))
    requests.clear()
    storage.save("f.txt", ContentFile(b"two"))
    assert requests == Counter({"OPEN": 1, "WRITE": 1, "CLOSE": 1, "EXTENDED": 1})


def test_exists_size_and_modified_time_cost_one_request_each(storage, requests):
    storage.save("f.txt", ContentFile(b"x"))
    requests.clear()
    storage.exists("f.txt")
    storage.size("f.txt")
    storage.get_modified_time("f.txt")
    assert requests == Counter({"STAT": 3})


def test_reading_a_small_file_costs_four_requests(storage, requests):
    storage.save("f.txt", ContentFile(b"hello"))
    requests.clear()
    with storage.open("f.txt") as f:
        assert f.read() == b"hello"
    assert requests == Counter({"OPEN": 1, "FSTAT": 1, "READ": 1, "CLOSE": 1})


def test_the_fstat_of_a_read_goes_out_with_its_first_read(storage, monkeypatch):
    """Two round trips and three requests for a whole read (the classic backend's open, read,
    read to EOF: three of each); the close goes out at close(), as the classic's."""
    storage.save("f.txt", ContentFile(b"hello"))
    events: list[str] = []
    send, wait = paramiko.SFTPClient._async_request, paramiko.SFTPClient._read_response

    def sending(self, fileobj, t, *args):
        events.append(NAMES.get(t, str(t)))
        return send(self, fileobj, t, *args)

    def waiting(self, waitfor=None):
        events.append("wait")
        return wait(self, waitfor)

    monkeypatch.setattr(paramiko.SFTPClient, "_async_request", sending)
    monkeypatch.setattr(paramiko.SFTPClient, "_read_response", waiting)
    with storage.open("f.txt") as f:
        assert f.read() == b"hello"
        assert (f.size, storage.get_modified_time("f.txt").year > 2000) == (5, True)
        assert events == ["OPEN", "wait", "READ", "FSTAT", "wait", "wait"]
    assert events[6:] == ["CLOSE", "wait"]


def _open_handles(local_sshd, path) -> int:
    """How many file descriptors of the server's processes are open on ``path``."""
    from storages_sftp.testing import descendants

    count = 0
    for pid in descendants(local_sshd.proc.pid):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    count += os.readlink(f"/proc/{pid}/fd/{fd}") == str(path)
    return count


def test_a_file_read_to_the_end_gives_its_connection_back_before_close(
    storage, requests, root, local_sshd, monkeypatch
):
    from storages_sftp import client

    storage.save("f.txt", ContentFile(b"hello"))
    storage.save("g.txt", ContentFile(b"other"))
    logins = []
    connect = client.connect
    monkeypatch.setattr(client, "connect", lambda settings: logins.append(1) or connect(settings))
    requests.clear()
    f = storage.open("f.txt")
    assert f.read() == b"hello"
    assert storage.size("g.txt") == 5  # on the same connection: no second login
    assert _open_handles(local_sshd, root / "f.txt") == 1  # open on the server until close()
    f.close()
    assert storage.exists("g.txt")
    assert _open_handles(local_sshd, root / "f.txt") == 0
    assert (logins, storage.sessions.pool.idle) == ([], 1)
    assert requests == Counter({"OPEN": 1, "READ": 1, "FSTAT": 1, "STAT": 2, "CLOSE": 1})


def test_a_close_while_another_thread_holds_the_connection_goes_out_with_its_next_use(
    storage, requests, root, local_sshd
):
    storage.save("f.txt", ContentFile(b"hello"))
    f = storage.open("f.txt")
    assert f.read() == b"hello"
    requests.clear()
    conn = storage.sessions.acquire()  # what another thread's operation does
    f.close()  # must not write on a connection another thread uses
    assert requests == Counter()
    assert conn.pending_closes
    storage.sessions.release(conn)
    assert storage.exists("f.txt")  # the next borrower sends the close first
    assert requests == Counter({"CLOSE": 1, "STAT": 1})
    assert _open_handles(local_sshd, root / "f.txt") == 0
    assert storage.open("f.txt").read() == b"hello"


def test_the_first_write_into_a_new_folder_checks_it_once(storage, requests):
    storage.save("warm.txt", ContentFile(b"x"))
    requests.clear()
    storage.save("new/a.txt", ContentFile(b"x"))
    first = sum(requests.values())
    requests.clear()
    storage.save("new/b.txt", ContentFile(b"x"))
    assert sum(requests.values()) == 4
    assert first <= 4 + 5  # stat (missing), stat + realpath of the parent, mkdir


def test_ssh_packets_go_out_without_waiting_for_acks(storage):
    """TCP_NODELAY: the fstat sent right behind a read must not wait for the read's ACK."""
    import socket

    storage.exists("warm")
    conn = storage.sessions.pool.acquire()
    try:
        sock = conn.ssh.get_transport().sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        storage.sessions.pool.release(conn)


def _cipher(storage) -> str:
    storage.exists("warm")
    conn = storage.sessions.pool.acquire()
    try:
        return conn.ssh.get_transport().local_cipher
    finally:
        storage.sessions.pool.release(conn)


def test_connections_ask_for_aes_gcm_first(storage):
    """AES-GCM authenticates each packet in the call that encrypts it: no Python HMAC."""
    assert _cipher(storage) == "aes128-gcm@openssh.com"


def test_disabled_algorithms_still_decide(storage_factory, sshd):
    from .conftest import params_for

    disabled = {"ciphers": ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]}
    storage = storage_factory(params=params_for(sshd, disabled_algorithms=disabled))
    assert _cipher(storage) == "aes128-ctr"  # paramiko's own first choice
