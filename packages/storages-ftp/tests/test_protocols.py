"""The three kinds of location (ftps://, aftp://) and servers without MLSD/MLST."""

import os
import time
from datetime import datetime, timezone

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import StorageError
from storages_ftp import FTPStorage


def test_ftps_round_trips_over_a_protected_data_channel(ftps_server):
    # The server refuses plain data connections (tls_data_required), so a transfer
    # that works went over TLS; the listing and the download are data transfers too.
    storage = FTPStorage(location=ftps_server.location("/tls"), ca_file=ftps_server.ca_file)
    data = os.urandom(1_500_000)
    name = storage.save("secure/file.bin", ContentFile(data))
    assert (ftps_server.home / "tls/secure/file.bin").read_bytes() == data
    with storage.open(name) as file:
        file.seek(1_000_000)
        assert file.read() == data[1_000_000:]
    assert storage.listdir("secure") == ([], ["file.bin"])
    assert storage.size(name) == len(data)
    storage.delete(name)
    assert not storage.exists(name)


def test_ftps_refuses_a_server_whose_certificate_is_not_trusted(ftps_server, tls_files):
    storage = FTPStorage(
        location=ftps_server.location("/"), ca_file=tls_files["other_ca"], retries=3
    )
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        storage.exists("x")
    assert "ca_file" in str(caught.value)
    assert time.monotonic() - started < 2  # an untrusted certificate is not retried


def test_plain_ftp_is_refused_by_a_server_that_requires_tls(ftps_server):
    storage = FTPStorage(location=ftps_server.location("/", scheme="ftp"), retries=0)
    with pytest.raises(StorageError):
        storage.exists("x")


def test_active_mode_round_trips(ftp_server):
    storage = FTPStorage(location=ftp_server.location("/active", scheme="aftp"))
    assert not storage.server.passive
    name = storage.save("a.txt", ContentFile(b"active"))
    with storage.open(name) as file:
        assert file.read() == b"active"
    assert storage.listdir("") == ([], ["a.txt"])


class TestWithoutMLSD:
    """A server without RFC 3659: LIST for listings, SIZE and MDTM for metadata."""

    @pytest.fixture
    def storage(self, list_only_server):
        return FTPStorage(location=list_only_server.location("/plain"), encoding="utf-8")

    def test_the_server_really_lacks_mlst(self, storage):
        storage.exists("x")
        session = storage.client.pool.acquire()
        assert "MLST" not in session.features
        storage.client.pool.release(session)

    def test_listdir_parses_list_output(self, storage):
        storage.save("dir/sub dir/a.txt", ContentFile(b"x"))
        storage.save("dir/b c.txt", ContentFile(b"x"))
        assert storage.listdir("dir") == (["sub dir"], ["b c.txt"])
        assert storage.listdir("nowhere") == ([], [])

    def test_size_exists_and_modified_time(self, storage, list_only_server):
        name = storage.save("m/meta.txt", ContentFile(b"1234"))
        os.utime(list_only_server.home / "plain" / name, (1_700_000_000, 1_700_000_000))
        assert storage.size(name) == 4
        assert storage.get_modified_time(name) == datetime.fromtimestamp(
            1_700_000_000, timezone.utc
        )
        assert storage.exists(name)
        assert storage.exists("m")
        assert not storage.exists("m/none.txt")
        with pytest.raises(FileNotFoundError):
            storage.size("m")

    def test_saves_without_overwrite_still_pick_a_free_name(self, storage):
        assert storage.save("same.txt", ContentFile(b"1")) == "same.txt"
        assert storage.save("same.txt", ContentFile(b"2")) != "same.txt"


class TestARenameThatWillNotReplace:
    """Servers on Windows (IIS) refuse RNTO onto an existing file: the old file is moved
    aside, the new one renamed in, and the old one put back if that fails."""

    @pytest.fixture
    def server(self, tmp_path, start_server):
        from pyftpdlib.handlers import FTPHandler

        def windows_rnto(handler, path):
            if handler._rnfr and os.path.exists(path):
                handler._rnfr = None
                handler.respond("550 Cannot create a file when that file already exists.")
                return None
            return FTPHandler.ftp_RNTO(handler, path)

        server = start_server(tmp_path, users={"u": ("p", "elradfmwMT")}, ftp_RNTO=windows_rnto)
        yield tmp_path, f"ftp://u:p@127.0.0.1:{server.address[1]}/"
        server.close_all()

    def test_a_save_with_overwrite_still_replaces_the_file(self, server):
        home, location = server
        storage = FTPStorage(location=location, allow_overwrite=True)
        storage.save("doc.txt", ContentFile(b"old"))
        assert storage.save("doc.txt", ContentFile(b"new")) == "doc.txt"
        assert (home / "doc.txt").read_bytes() == b"new"
        assert sorted(p.name for p in home.iterdir()) == ["doc.txt"]

    def test_without_overwrite_a_taken_name_gets_a_free_one(self, server):
        home, location = server
        storage = FTPStorage(location=location)
        storage.save("doc.txt", ContentFile(b"old"))
        other = storage.save("doc.txt", ContentFile(b"new"))
        assert other != "doc.txt"
        assert (home / "doc.txt").read_bytes() == b"old"
        assert (home / other).read_bytes() == b"new"
