"""FTPStorage against pyftpdlib on 127.0.0.1: what a Django user sees, and what the server holds."""

import io
import os
import threading
import time
from datetime import datetime, timezone

import pytest
from django.core.files.base import ContentFile, File

from storages_base.errors import NotFoundError, PermissionDeniedError, StorageError
from storages_ftp import FTPStorage


def payload(size: int) -> bytes:
    return os.urandom(size)


# -- saving and reading ------------------------------------------------------------------


def test_saving_creates_the_missing_folders_and_the_server_holds_the_bytes(make_ftp, folder):
    storage = make_ftp()
    data = payload(300_000)
    name = storage.save("a/b/c/file.bin", ContentFile(data))
    assert name == "a/b/c/file.bin"
    assert (folder / "a/b/c/file.bin").read_bytes() == data


def test_a_saved_file_reads_back_whole_and_from_any_offset(make_ftp):
    storage = make_ftp()
    data = payload(3 * 1024 * 1024 + 17)
    name = storage.save("big.bin", ContentFile(data))
    with storage.open(name, "rb") as file:
        assert file.read(10) == data[:10]
        file.seek(2 * 1024 * 1024 + 5)  # a REST offset, not a download of the start
        assert file.read(100) == data[2 * 1024 * 1024 + 5 : 2 * 1024 * 1024 + 105]
        file.seek(-7, io.SEEK_END)
        assert file.read() == data[-7:]
        file.seek(0)
        assert file.read() == data
    assert storage.size(name) == len(data)


def test_closing_a_file_read_halfway_gives_its_session_back_for_reuse(make_ftp):
    storage = make_ftp(pool_size=1)
    name = storage.save("half.bin", ContentFile(payload(4 * 1024 * 1024)))
    file = storage.open(name, "rb")
    file.read(1000)
    assert storage.client.pool.idle == 0  # the download holds the session
    file.close()
    assert storage.client.pool.idle == 1
    assert storage.exists(name)  # the session answers after the aborted transfer


def test_a_thread_holding_an_open_file_can_still_use_the_storage(make_ftp):
    storage = make_ftp(pool_size=1)
    name = storage.save("held.txt", ContentFile(b"held"))
    with storage.open(name, "rb") as file:
        assert storage.size(name) == 4  # a second session, not a deadlock
        assert file.read() == b"held"


def test_an_empty_file_round_trips(make_ftp, folder):
    storage = make_ftp()
    name = storage.save("empty.txt", ContentFile(b""))
    assert (folder / name).read_bytes() == b""
    assert storage.size(name) == 0
    with storage.open(name) as file:
        assert file.read() == b""


def test_writing_through_open_stores_on_close(make_ftp, folder):
    storage = make_ftp()
    with storage.open("written/text.txt", "w") as file:
        file.write("héllo\n")
    assert (folder / "written/text.txt").read_bytes() == "héllo\n".encode()
    with storage.open("written/text.txt", "r") as file:
        assert file.read() == "héllo\n"


def test_unicode_and_spaces_in_names_round_trip_with_utf8(make_ftp, folder):
    storage = make_ftp(encoding="utf-8")
    name = storage.save("dossier été/naïve 日本.txt", ContentFile(b"x"))
    assert (folder / "dossier été" / "naïve 日本.txt").exists()
    assert storage.listdir("dossier été") == ([], ["naïve 日本.txt"])
    assert (
        storage.url(name)
        == "https://files.example/media/dossier%20%C3%A9t%C3%A9/na%C3%AFve%20%E6%97%A5%E6%9C%AC.txt"
    )


def test_a_missing_file_raises_file_not_found_with_its_name(make_ftp):
    storage = make_ftp()
    for call in (lambda: storage.open("nope.txt"), lambda: storage.size("nope.txt")):
        with pytest.raises(FileNotFoundError) as caught:
            call()
        assert isinstance(caught.value, NotFoundError)
        assert caught.value.name == "nope.txt"
        assert caught.value.backend == "ftp"


def test_a_folder_is_not_a_file_to_open_or_measure(make_ftp):
    storage = make_ftp()
    storage.save("dir/inner.txt", ContentFile(b"x"))
    with pytest.raises(FileNotFoundError):
        storage.open("dir")
    with pytest.raises(FileNotFoundError):
        storage.size("dir")


# -- metadata ------------------------------------------------------------------------------


def test_size_and_modified_time_come_from_the_server(make_ftp, folder):
    storage = make_ftp()
    name = storage.save("meta.txt", ContentFile(b"12345"))
    stamp = 1_700_000_000
    os.utime(folder / name, (stamp, stamp))
    assert storage.size(name) == 5
    assert storage.get_modified_time(name) == datetime.fromtimestamp(stamp, timezone.utc)


def test_exists_is_true_for_files_and_folders_and_false_for_missing_names(make_ftp):
    storage = make_ftp()
    storage.save("here/file.txt", ContentFile(b"x"))
    assert storage.exists("here/file.txt")
    assert storage.exists("here")
    assert not storage.exists("here/missing.txt")
    assert not storage.exists("nowhere/missing.txt")


# -- deleting --------------------------------------------------------------------------------


@pytest.mark.parametrize("allow_overwrite", [False, True])
def test_delete_removes_the_file_whether_or_not_overwrite_is_allowed(
    make_ftp, folder, allow_overwrite
):
    storage = make_ftp(allow_overwrite=allow_overwrite)
    name = storage.save("doomed.txt", ContentFile(b"x"))
    storage.delete(name)
    assert not (folder / name).exists()
    assert not storage.exists(name)
    storage.delete(name)  # deleting a missing file is quiet


def test_delete_removes_an_empty_folder(make_ftp, folder):
    storage = make_ftp()
    (folder / "empty-dir").mkdir()
    storage.delete("empty-dir")
    assert not (folder / "empty-dir").exists()


# -- listing ---------------------------------------------------------------------------------


def test_listdir_hides_uploads_in_progress(make_ftp, folder):
    storage = make_ftp()
    storage.save("files/real.txt", ContentFile(b"x"))
    (folder / "files/.storages-0123456789abcdef.part").write_bytes(b"partial")
    assert storage.listdir("files") == ([], ["real.txt"])


def test_listdir_of_the_root_and_of_a_missing_folder(make_ftp):
    storage = make_ftp()
    storage.save("top.txt", ContentFile(b"x"))
    storage.save("sub/inner.txt", ContentFile(b"x"))
    assert storage.listdir("") == (["sub"], ["top.txt"])
    assert storage.listdir("missing") == ([], [])


# -- overwriting -----------------------------------------------------------------------------


def test_without_overwrite_a_taken_name_gets_a_new_name_and_the_old_file_stays(make_ftp, folder):
    storage = make_ftp()  # FTP_ALLOW_OVERWRITE defaults to False
    first = storage.save("same.txt", ContentFile(b"first"))
    second = storage.save("same.txt", ContentFile(b"second"))
    assert first == "same.txt"
    assert second != first
    assert second.startswith("same_")
    assert second.endswith(".txt")
    assert (folder / first).read_bytes() == b"first"
    assert (folder / second).read_bytes() == b"second"


def test_with_overwrite_a_save_replaces_the_file_in_place(make_ftp, folder):
    storage = make_ftp(allow_overwrite=True)
    storage.save("same.txt", ContentFile(b"first"))
    assert storage.save("same.txt", ContentFile(b"second")) == "same.txt"
    assert (folder / "same.txt").read_bytes() == b"second"
    assert [p.name for p in folder.iterdir()] == ["same.txt"]  # no temporary file left


def test_opening_for_exclusive_creation_refuses_an_existing_file(make_ftp, folder):
    storage = make_ftp(allow_overwrite=True)
    storage.save("taken.txt", ContentFile(b"old"))
    with pytest.raises(FileExistsError), storage.open("taken.txt", "xb") as file:
        file.write(b"new")
    assert (folder / "taken.txt").read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["taken.txt"]


def test_a_save_that_fails_midway_leaves_the_old_file_and_no_temporary_file(make_ftp, folder):
    class Exploding(io.RawIOBase):
        sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent > 1024 * 1024:
                raise RuntimeError("the upload's source broke")
            self.sent += len(buffer)
            buffer[:] = b"n" * len(buffer)
            return len(buffer)

    storage = make_ftp(allow_overwrite=True)
    storage.save("precious.txt", ContentFile(b"good"))
    with pytest.raises(RuntimeError, match="source broke"):
        storage.save("precious.txt", File(io.BufferedReader(Exploding()), name="x"))
    assert (folder / "precious.txt").read_bytes() == b"good"
    assert sorted(p.name for p in folder.iterdir()) == ["precious.txt"]
    assert storage.exists("precious.txt")  # and the storage works on


# -- urls ---------------------------------------------------------------------------------------


def test_url_is_the_base_url_and_the_quoted_name(make_ftp):
    storage = make_ftp(base_url="https://cdn.example/files")
    assert storage.url("a b/c?.txt") == "https://cdn.example/files/a%20b/c%3F.txt"
    assert make_ftp(base_url="/media/").url("x.txt") == "/media/x.txt"


# -- sessions --------------------------------------------------------------------------------


def test_no_connection_is_made_until_the_first_operation(ftp_server):
    storage = FTPStorage(location=ftp_server.location("/"))
    assert "client" not in storage.__dict__
    storage.url("x.txt")
    assert "client" not in storage.__dict__


def test_close_and_the_context_manager_close_idle_sessions_and_the_storage_reconnects(make_ftp):
    storage = make_ftp()
    with storage:
        storage.save("ctx.txt", ContentFile(b"x"))
        assert storage.client.pool.idle == 1
    assert storage.client.pool.idle == 0
    assert storage.exists("ctx.txt")


def test_threads_share_one_storage_safely(make_ftp, folder):
    storage = make_ftp(allow_overwrite=True, pool_size=3)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            data = payload(50_000 + index)
            for round_ in range(3):
                name = storage.save(f"t{index}/r{round_}.bin", ContentFile(data))
                with storage.open(name) as file:
                    assert file.read() == data
                assert storage.size(name) == len(data)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.client.pool.idle <= 3
    assert len(list(folder.rglob("*.bin"))) == 24


def test_a_wrong_password_is_a_permission_error_at_once(ftp_server):
    storage = FTPStorage(location=ftp_server.location("/", password="wrong"), retries=5)
    started = time.monotonic()
    with pytest.raises(PermissionDeniedError) as caught:
        storage.exists("x")
    # pyftpdlib answers a failed login after 3 s; retried six times it would take 18 s.
    assert time.monotonic() - started < 5
    assert "wrong" not in str(caught.value)


def test_a_read_only_user_cannot_save_and_leaves_nothing_behind(ftp_server, make_ftp, folder):
    (folder / "ro").mkdir()
    reader = FTPStorage(location=ftp_server.location(f"/{folder.name}/ro", user="reader"))
    with pytest.raises(PermissionError) as caught:
        reader.save("x.txt", ContentFile(b"x"))
    assert isinstance(caught.value, StorageError)
    assert list((folder / "ro").iterdir()) == []


def test_an_idle_session_the_server_timed_out_is_replaced_transparently(tmp_path, start_server):
    # The server drops sessions idle for half a second.
    server = start_server(tmp_path, users={"u": ("p", "elradfmwMT")}, timeout=0.5)
    try:
        storage = FTPStorage(location=f"ftp://u:p@127.0.0.1:{server.address[1]}/")
        storage.save("a.txt", ContentFile(b"a"))
        time.sleep(1.2)
        assert storage.exists("a.txt")
        assert storage.save("b.txt", ContentFile(b"b")) == "b.txt"
        assert (tmp_path / "b.txt").read_bytes() == b"b"
    finally:
        server.close_all()


@pytest.mark.parametrize("operation", ["delete", "size", "exists", "listdir", "open"])
def test_a_name_carrying_an_ftp_command_is_refused_before_anything_is_sent(
    make_ftp, folder, operation
):
    from django.core.exceptions import SuspiciousFileOperation

    storage = make_ftp()
    (folder / "victim.txt").write_bytes(b"safe")
    with pytest.raises(SuspiciousFileOperation):
        getattr(storage, operation)("x\r\nDELE victim.txt")
    assert (folder / "victim.txt").read_bytes() == b"safe"
    assert "client" not in storage.__dict__  # no session was even opened


def test_a_url_fetched_from_a_web_server_publishing_the_folder_gives_the_file(make_ftp, folder):
    import functools
    import http.server
    import urllib.request

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        storage = make_ftp(base_url=f"http://127.0.0.1:{web.server_address[1]}/", encoding="utf-8")
        data = payload(5000)
        name = storage.save("pub lic/fetched ü #1.bin", ContentFile(data))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(storage.url(name), timeout=10) as response:
            assert response.read() == data
    finally:
        web.shutdown()
        web.server_close()


def test_a_name_outside_the_default_latin1_encoding_says_to_use_utf8(make_ftp):
    storage = make_ftp(encoding="latin-1")
    assert storage.save("café.txt", ContentFile(b"latin")) == "café.txt"  # Latin-1 is fine
    with pytest.raises(StorageError, match="FTP_STORAGE_ENCODING"):
        storage.save("日本.txt", ContentFile(b"x"))
    assert storage.exists("café.txt")  # the session survived


def test_a_root_folder_that_cannot_be_created_is_named_in_the_error(ftp_server, folder):
    reader = FTPStorage(location=ftp_server.location(f"/{folder.name}/absent", user="reader"))
    with pytest.raises(FileNotFoundError, match="absent' does not exist and could not be created"):
        reader.exists("x.txt")
    assert not (folder / "absent").exists()


def test_a_file_created_by_someone_else_during_an_upload_is_not_replaced(make_ftp, folder):
    class Racing(io.BytesIO):
        raced = False

        def read(self, size=-1):
            if not self.raced:  # another client takes the name while we upload
                self.raced = True
                (folder / "race.txt").write_bytes(b"the other writer")
            return super().read(size)

    storage = make_ftp()  # no overwrite
    name = storage.save("race.txt", File(Racing(b"mine"), name="race.txt"))
    assert name != "race.txt"
    assert (folder / "race.txt").read_bytes() == b"the other writer"
    assert (folder / name).read_bytes() == b"mine"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["race.txt", name])
