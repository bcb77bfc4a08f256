"""The Django Storage API on a real OpenSSH server, checked on the server's disk."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_base.errors import NotFoundError
from storages_sftp import SFTPStorage


def test_a_saved_file_is_on_the_server_disk_and_reads_back(storage, root):
    name = storage.save("a/b/c.txt", ContentFile(b"hello"))
    assert name == "a/b/c.txt"
    assert (root / "a" / "b" / "c.txt").read_bytes() == b"hello"
    with storage.open(name) as f:
        assert f.read() == b"hello"
    assert storage.exists(name)
    assert storage.size(name) == 5


def test_saving_an_existing_name_keeps_both_files_by_default(storage, root):
    first = storage.save("doc.txt", ContentFile(b"one"))
    second = storage.save("doc.txt", ContentFile(b"two"))
    assert first == "doc.txt"
    assert second != first
    assert second.startswith("doc_")
    assert second.endswith(".txt")
    assert (root / first).read_bytes() == b"one"
    assert (root / second).read_bytes() == b"two"


def test_file_overwrite_replaces_the_file_in_place(storage_factory, root):
    storage = storage_factory(file_overwrite=True)
    storage.save("doc.txt", ContentFile(b"one"))
    assert storage.save("doc.txt", ContentFile(b"two, longer")) == "doc.txt"
    assert (root / "doc.txt").read_bytes() == b"two, longer"
    assert sorted(os.listdir(root)) == ["doc.txt"]  # no temporary file left


def test_the_overwrite_setting_is_read_from_django_settings(storage_factory):
    with override_settings(SFTP_STORAGE_FILE_OVERWRITE=True):
        assert storage_factory().file_overwrite is True


def test_concurrent_saves_of_one_name_never_replace_each_other(storage, root):
    barrier = threading.Barrier(8)
    names: list[str] = []

    def save(i: int) -> None:
        barrier.wait()
        names.append(storage.save("race.bin", ContentFile(b"%d" % i * 1000)))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 8
    contents = sorted((root / name).read_bytes() for name in names)
    assert contents == sorted(b"%d" % i * 1000 for i in range(8))


def test_open_for_exclusive_creation_refuses_an_existing_file(storage):
    storage.save("x.txt", ContentFile(b"first"))
    with pytest.raises(FileExistsError), storage.open("x.txt", "xb") as f:
        f.write(b"second")
    with storage.open("x.txt") as f:
        assert f.read() == b"first"


def test_reads_stream_and_seek_within_a_large_file(storage):
    data = os.urandom(9 * 1024 * 1024 + 17)
    storage.save("big.bin", ContentFile(data))
    with storage.open("big.bin") as f:
        assert f.read(10) == data[:10]
        f.seek(8 * 1024 * 1024)
        assert f.read(100) == data[8 * 1024 * 1024 : 8 * 1024 * 1024 + 100]
        f.seek(0)
        assert b"".join(f.chunks()) == data


def test_reading_a_few_bytes_of_a_large_file_then_closing_is_quick(storage):
    storage.save("big.bin", ContentFile(os.urandom(8 * 1024 * 1024)))
    for _ in range(5):
        with storage.open("big.bin") as f:
            assert len(f.read(1024)) == 1024


def test_a_missing_file_is_not_found_everywhere(storage):
    with pytest.raises(NotFoundError):
        storage.open("missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("missing.txt")
    assert not storage.exists("missing.txt")
    storage.delete("missing.txt")  # quiet


def test_a_folder_exists_but_cannot_be_opened_as_a_file(storage, root):
    (root / "folder").mkdir()
    assert storage.exists("folder")
    with pytest.raises(FileNotFoundError):
        storage.open("folder")


def test_listdir_shows_folders_and_files_but_not_uploads_in_progress(storage, root):
    storage.save("dir/a.txt", ContentFile(b"a"))
    storage.save("dir/sub/b.txt", ContentFile(b"b"))
    (root / "dir" / "empty").mkdir()
    (root / "dir" / ".storages-0123456789abcdef.part").write_bytes(b"partial")
    assert storage.listdir("dir") == (["empty", "sub"], ["a.txt"])
    assert storage.listdir("") == (["dir"], [])
    assert storage.listdir("nowhere") == ([], [])


def test_delete_removes_a_file_and_an_empty_folder(storage, root):
    storage.save("dir/a.txt", ContentFile(b"a"))
    storage.delete("dir/a.txt")
    assert not (root / "dir" / "a.txt").exists()
    storage.delete("dir")
    assert not (root / "dir").exists()


def test_modes_are_applied_to_files_and_created_folders(storage_factory, root):
    storage = storage_factory(file_mode=0o640, dir_mode=0o750)
    storage.save("one/two/file.txt", ContentFile(b"x"))
    assert stat.S_IMODE((root / "one" / "two" / "file.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((root / "one").stat().st_mode) == 0o750
    assert stat.S_IMODE((root / "one" / "two").stat().st_mode) == 0o750


def test_modes_given_as_octal_strings_work(storage_factory, root):
    storage = storage_factory(file_mode="600")
    storage.save("f.txt", ContentFile(b"x"))
    assert stat.S_IMODE((root / "f.txt").stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give files away (chown)")
def test_uid_and_gid_are_applied_to_files_and_created_folders(storage_factory, root):
    storage = storage_factory(uid=4321, gid=8765)
    storage.save("d/f.txt", ContentFile(b"x"))
    for path in (root / "d", root / "d" / "f.txt"):
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 8765)


def test_modified_and_accessed_times_are_aware_utc(storage, root):
    storage.save("t.txt", ContentFile(b"x"))
    past = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    os.utime(root / "t.txt", (past.timestamp(), past.timestamp() + 60))
    assert storage.get_accessed_time("t.txt") == past
    assert storage.get_modified_time("t.txt") == past + timedelta(seconds=60)
    with pytest.raises(NotImplementedError):
        storage.get_created_time("t.txt")


def test_naive_local_times_without_use_tz(storage):
    storage.save("t.txt", ContentFile(b"x"))
    with override_settings(USE_TZ=False):
        assert storage.get_modified_time("t.txt").tzinfo is None


def test_url_joins_the_base_url_and_the_quoted_name(storage_factory):
    storage = storage_factory(base_url="https://files.example.com/media/")
    assert storage.url("a b/ü.txt") == "https://files.example.com/media/a%20b/%C3%BC.txt"
    assert storage_factory().url("x.txt") == "/media/x.txt"  # MEDIA_URL


def test_a_relative_root_lives_under_the_login_home(storage_factory, sshd, local_sshd):
    home = Path(os.path.expanduser("~" + sshd["username"]))
    folder = home / f".storages-sftp-test-{os.getpid()}"
    try:
        storage = storage_factory(root_path=f"{folder.name}/media/")
        storage.save("f.txt", ContentFile(b"x"))
        assert (folder / "media" / "f.txt").read_bytes() == b"x"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_root_that_climbs_out_is_a_configuration_error(storage_factory):
    with pytest.raises(ImproperlyConfigured, match="absolute path"):
        storage_factory(root_path="../elsewhere/")


def test_location_is_a_folder_under_the_root(storage_factory, root):
    storage = storage_factory(location="sub")
    storage.save("f.txt", ContentFile(b"x"))
    assert (root / "sub" / "f.txt").read_bytes() == b"x"
    assert storage.listdir("") == ([], ["f.txt"])


def test_open_for_writing_stores_the_file_on_close(storage, root):
    with storage.open("w.txt", "w") as f:
        f.write("line one\n")
        f.write("line two\n")
    assert (root / "w.txt").read_bytes() == b"line one\nline two\n"


def test_saving_unseekable_streams_works(storage, root):
    class Stream(io.RawIOBase):
        def __init__(self):
            self.left = 3 * 1024 * 1024

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), self.left)
            buffer[:n] = b"z" * n
            self.left -= n
            return n

    storage.save("s.bin", Stream())
    assert (root / "s.bin").stat().st_size == 3 * 1024 * 1024


def test_the_storage_is_a_context_manager_that_closes_its_connections(storage_factory):
    with storage_factory() as storage:
        storage.save("f.txt", ContentFile(b"x"))
        pool = storage.sessions
        assert pool.pool.idle == 1
    assert pool.pool.idle == 0
    assert "sessions" not in storage.__dict__
    assert storage.exists("f.txt")  # reconnects lazily after close()


def test_a_storage_pickles_without_its_connections(storage):
    storage.save("f.txt", ContentFile(b"x"))
    copy = pickle.loads(pickle.dumps(storage))
    assert isinstance(copy, SFTPStorage)
    assert copy.exists("f.txt")


def test_a_storage_that_is_garbage_collected_closes_its_connections(sshd, root):
    import gc

    from .conftest import params_for

    storage = SFTPStorage(
        host=sshd["host"],
        params=params_for(sshd),
        known_host_file=sshd["known_host_file"],
        root_path=str(root),
    )
    storage.save("f.txt", ContentFile(b"x"))
    (conn,) = (conn for conn, _since in storage.sessions.pool._idle)
    transport = conn.ssh.get_transport()
    assert transport.is_active()
    del storage, conn
    gc.collect()
    assert not transport.is_active()
