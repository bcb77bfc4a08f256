"""How many SFTP requests each operation costs (deterministic, so asserted).

Every SSH message the client sends goes through ``Transport._send_message``
(paramiko's ``Channel.send`` and ``storages_sftp.wire`` alike); it is wrapped to read
the SFTP packets out of each channel's data as it is sent, so each request is counted
by its type on the wire; the session's opening INIT is left out. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections import Counter

import paramiko
import pytest
from django.core.files.base import ContentFile
from paramiko import sftp as codes

from .conftest import NAMES, channel_data


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
    read to EOF: three of each); the close goes out at close(), as the classic's, and
    is not waited for (the classic waits: a third round trip)."""
    storage.save("f.txt", ContentFile(b"hello"))
    events: list[str] = []  # each request sent, and "wait" for the channel reads after it
    send, recv = paramiko.Transport._send_message, paramiko.Channel.recv

    def sending(self, message):
        data = channel_data(message)
        if data is not None:
            events.append(NAMES.get(data[1][4], str(data[1][4])))  # one request per message
        return send(self, message)

    def waiting(self, count):
        events[len(events) :] = [] if events[-1:] == ["wait"] else ["wait"]
        return recv(self, count)

    monkeypatch.setattr(paramiko.Transport, "_send_message", sending)
    monkeypatch.setattr(paramiko.Channel, "recv", waiting)
    with storage.open("f.txt") as f:
        assert f.read() == b"hello"
        assert (f.size, storage.get_modified_time("f.txt").year > 2000) == (5, True)
        assert events == ["OPEN", "wait", "READ", "FSTAT", "wait"]
    assert events[5:] == ["CLOSE"]


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


def test_closing_a_file_read_to_the_end_does_not_wait_for_the_server(
    storage, requests, root, local_sshd
):
    """The CLOSE goes out at close(); the server closes the handle by itself, and the
    answer, read by the connection's next request, changes nothing for it."""
    storage.save("f.txt", ContentFile(b"hello"))
    f = storage.open("f.txt")
    assert f.read() == b"hello"
    requests.clear()
    f.close()
    assert requests == Counter({"CLOSE": 1})
    deadline = time.monotonic() + 5
    while _open_handles(local_sshd, root / "f.txt") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _open_handles(local_sshd, root / "f.txt") == 0
    with pytest.raises(FileNotFoundError):
        storage.size("missing.txt")  # the close's answer first, then this one's error
    assert storage.size("f.txt") == 5
    assert storage.sessions.pool.idle == 1
    assert requests == Counter({"CLOSE": 1, "STAT": 2})


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


@pytest.mark.parametrize(
    ("size", "reads"),
    [(0, 1), (5, 1), (32 * 1024, 1), (32 * 1024 + 1, 2), (100_000, 4)],
)
def test_a_whole_read_costs_open_read_fstat_and_close(storage, requests, size, reads):
    """The first read brings up to 32 KiB with the fstat; the rest is read in requests
    of 32 KiB asked for ahead of the reader (by paramiko's file)."""
    body = os.urandom(size)
    storage.save("f.bin", ContentFile(body))
    requests.clear()
    with storage.open("f.bin") as f:
        assert (f.read(), f.size) == (body, size)
    assert requests == Counter({"OPEN": 1, "READ": reads, "FSTAT": 1, "CLOSE": 1})


def test_a_read_from_an_offset_starts_there(storage, requests):
    body = os.urandom(40_000)
    storage.save("f.bin", ContentFile(body))
    with storage.open("f.bin") as f:
        f.seek(39_990)
        assert f.read() == body[39_990:]
        f.seek(5)
        assert f.read(10) == body[5:15]


def test_answers_to_paramikos_own_requests_read_first_reach_their_file(storage, root):
    """A stat sent while paramiko's file still awaits its reads on the same session:
    the reads' answers come first and must reach the file, not be lost."""
    from storages_sftp import client, files

    body = os.urandom(200_000)
    storage.save("f.bin", ContentFile(body))
    conn = storage.sessions.pool.acquire()
    try:
        file = conn.sftp.open(str(root / "f.bin"), "rb")
        files._prefetch(file, 0, len(body))  # reads sent now (this thread), for the file
        attrs = client.stat(conn, str(root / "f.bin"))
        assert attrs is not None
        assert attrs.size == len(body)
        assert file.read() == body
        file.close()
        assert client.stat(conn, str(root / "missing")) is None
    finally:
        storage.sessions.pool.release(conn)


def test_error_answers_raise_what_paramiko_raises(storage, root):
    """A missing file, and a read at the end of a file, through storages_sftp.wire."""
    import struct as _struct

    from storages_sftp import files, wire

    storage.save("f.txt", ContentFile(b"hello"))
    conn = storage.sessions.pool.acquire()
    try:
        with pytest.raises(FileNotFoundError):
            wire.call(conn, codes.CMD_REMOVE, wire.string(str(root / "missing")))
        assert (
            wire.call_unless_missing(conn, codes.CMD_REMOVE, wire.string(str(root / "missing")))
            is None
        )
        with pytest.raises(OSError, match="Failure"):  # REMOVE of a folder: not "missing"
            wire.call_unless_missing(conn, codes.CMD_REMOVE, wire.string(str(root)))
        with pytest.raises(FileNotFoundError):
            files.open_to_read(conn, str(root / "missing"))
        handle = files.open_to_read(conn, str(root / "f.txt"))
        with pytest.raises(EOFError):
            wire.call(conn, codes.CMD_READ, wire.string(handle) + _struct.pack(">QI", 5, 10))
        kind, body = wire.call(
            conn, codes.CMD_READ, wire.string(handle) + _struct.pack(">QI", 1, 10)
        )
        assert (kind, body) == (codes.CMD_DATA, wire.string(b"ello"))
        wire.call(conn, codes.CMD_CLOSE, wire.string(handle))
        assert conn.alive
    finally:
        storage.sessions.pool.release(conn)


def test_a_listing_costs_paramikos_requests_and_gives_its_entries(storage, requests, root):
    """OPENDIR, READDIR until the end (OpenSSH sends up to 100 entries at a time), CLOSE:
    the requests of paramiko's listdir_attr, and the same names and kinds."""
    for i in range(250):
        storage.save(f"many/f{i:03d} ãö.txt", ContentFile(b"x"))
    storage.save("many/sub/inner.txt", ContentFile(b"x"))
    (root / "many" / "link").symlink_to(root / "many" / "sub")
    requests.clear()
    folders, names = storage.listdir("many")
    assert requests == Counter({"OPENDIR": 1, "READDIR": 4, "CLOSE": 1})
    conn = storage.sessions.pool.acquire()
    try:
        entries = conn.sftp.listdir_attr(str(root / "many"))
    finally:
        storage.sessions.pool.release(conn)
    kinds = {e.filename: stat.S_ISDIR(e.st_mode) for e in entries}
    assert sorted(folders) == sorted(n for n, d in kinds.items() if d) == ["sub"]
    assert sorted(names) == sorted(n for n, d in kinds.items() if not d)
    assert len(names) == 251  # the symlink to a folder is listed as a file, as before


def test_attributes_with_extensions_are_read_past(storage):
    """An ATTRS with extended pairs (as paramiko's encoder writes them): the fields are
    read and the position lands after the last extension."""
    from storages_sftp.client import _attributes_at

    attrs = paramiko.SFTPAttributes()
    attrs.st_size, attrs.st_mode, attrs.st_atime, attrs.st_mtime = 7, 0o100644, 11, 12
    attrs.st_uid = attrs.st_gid = 0
    attrs.attr = {"a@example.com": "1", "b@example.com": "two"}
    message = paramiko.Message()
    attrs._pack(message)
    data = message.asbytes() + b"next"
    parsed, pos = _attributes_at(data, 0)
    assert (parsed.size, parsed.mode, parsed.atime, parsed.mtime) == (7, 0o100644, 11, 12)
    assert data[pos:] == b"next"


def test_requests_charge_the_servers_window_as_paramikos_do(storage, root):
    """wire sends a request as one CHANNEL_DATA message, charging the server's window as
    paramiko's Channel.send does (the same bytes for the same request), and keeps going
    past the window's first 2 MiB (4 MB of stat requests, all answered)."""
    from storages_sftp import client

    storage.exists("warm")
    conn = storage.sessions.pool.acquire()
    try:
        path = str(root / ("missing/" * 480))  # about 3.8 KB
        window = conn.channel.out_window_size
        assert client.stat(conn, path) is None
        ours = window - conn.channel.out_window_size
        with pytest.raises(FileNotFoundError):
            conn.sftp.stat(path)
        paramikos = window - ours - conn.channel.out_window_size
        assert ours == paramikos == 13 + len(path.encode())
        answers = [client.stat(conn, path) for _ in range(1000)]
        assert answers == [None] * 1000
        assert 1000 * len(path) > 1.5 * window
        assert conn.alive
    finally:
        storage.sessions.pool.release(conn)
