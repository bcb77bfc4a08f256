"""FileServerStorage and Sessions: the file-server policy, on a local folder as the server.

The "server" is a real folder; its "connections" can be dropped (a restart) or refused
(the server is down), which is what the shared policy must survive: an upload goes to
a temporary name and is renamed into place, a failed one leaves no file behind, a
retry never sends a consumed stream twice. FTP's and SFTP's suites run the same
policy against their real servers.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest
from django.core.files.base import ContentFile, File

from storages_base import BASE_OPTIONS, Capabilities, Option
from storages_base.clients import client_property
from storages_base.errors import AlreadyExistsError, StorageError, TransientError
from storages_base.files import Stat
from storages_base.fileserver import FileServerStorage, PathInfo, UploadSource
from storages_base.remote import ConnectionPool, Sessions, is_temporary_name
from storages_base.storage import WriteRequest


class Server:
    """The state of the pretend server: up or down, and which connections it still knows."""

    def __init__(self) -> None:
        self.down = False
        self.generation = 0  # bumped by a restart: older connections are dead
        self.connections = 0

    def restart(self) -> None:
        self.generation += 1


class Connection:
    def __init__(self, server: Server) -> None:
        if server.down:
            raise ConnectionRefusedError("the server is down")
        server.connections += 1
        self.server = server
        self.generation = server.generation

    def check(self) -> None:
        if self.server.down or self.generation != self.server.generation:
            raise ConnectionResetError("the connection was dropped")


def translate(exc: BaseException, conn: Any, name: str | None, operation: str) -> BaseException:
    if isinstance(exc, ConnectionError):
        return TransientError(str(exc), name=name, operation=operation, backend="local")
    return exc


class LocalServerStorage(FileServerStorage):
    """A file-server backend whose protocol is the local file system."""

    backend_name = "local"
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True, idempotent_create=True
    )
    options = BASE_OPTIONS.extend(Option("root", None, "", "The server's folder."))
    root: str
    server: Server
    #: Drop the connection "before" or "after" the next rename is done (its answer is lost).
    lose_rename: str | None = None

    @client_property
    def sessions(self) -> Sessions[Connection]:
        pool = ConnectionPool(lambda: Connection(self.server), lambda conn: None)
        return Sessions(
            pool,
            translate=translate,
            broken=lambda exc, error: isinstance(error, TransientError),
            remove=self._remove_path,
            describe=lambda exc, runs, name, op: TransientError(f"down after {runs} runs"),
        )

    def close(self) -> None:
        self.sessions.close()

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key)

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        def start(conn: Connection) -> tuple[IO[bytes], Stat | None]:
            conn.check()
            file = open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
            file.seek(offset)
            self.sessions.release(conn)  # nothing is held while reading a local file
            return file, None

        return self._run(start, key, "open", keep=True)

    def _path_info(self, conn: Connection, path: str) -> PathInfo | None:
        conn.check()
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        if os.path.isdir(path):
            return PathInfo(folder=True)
        modified = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
        return PathInfo(folder=False, stat=Stat(size=stat.st_size, modified=modified))

    def _list_path(self, conn: Connection, path: str) -> list[tuple[str, bool]]:
        conn.check()
        try:
            return [(entry.name, entry.is_dir()) for entry in os.scandir(path)]
        except FileNotFoundError:
            return []

    def _remove_path(self, conn: Connection, path: str) -> None:
        conn.check()
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            os.rmdir(path)

    def _store_path(
        self, conn: Connection, path: str, source: UploadSource, request: WriteRequest
    ) -> None:
        conn.check()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as file:
            while chunk := source.read(1024):
                conn.check()  # a restart drops the connection mid-upload
                file.write(chunk)

    def _rename_path(self, conn: Connection, path: str, target: str, exclusive: bool) -> bool:
        conn.check()
        lose, self.lose_rename = self.lose_rename, None
        if lose == "before":
            self.server.restart()
            conn.check()
        done = self._rename(path, target, exclusive)
        if lose == "after":
            self.server.restart()
            conn.check()
        return done

    def _rename(self, path: str, target: str, exclusive: bool) -> bool:
        if not exclusive:
            os.replace(path, target)
            return True
        try:
            os.link(path, target)  # fails if the target exists: an atomic claim
        except FileExistsError:
            return False
        os.remove(path)
        return True


class Faulty(io.BytesIO):
    """Content that runs ``fault`` once, when ``after`` bytes have been read."""

    def __init__(self, data: bytes, after: int, fault: Any, seekable: bool = True) -> None:
        super().__init__(data)
        self.after, self.fault, self._seekable = after, fault, seekable
        self.faults = 0

    def seekable(self) -> bool:
        return self._seekable

    def read(self, size: int | None = -1) -> bytes:
        if not self.faults and self.tell() >= self.after:
            self.faults += 1
            self.fault()
        return super().read(size)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def storage(tmp_path: Path, server: Server) -> Iterator[LocalServerStorage]:
    made = LocalServerStorage(root=str(tmp_path), file_overwrite=True)
    made.server = server
    yield made
    made.close()


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_an_upload_appears_only_under_its_name(storage, tmp_path) -> None:
    assert storage.save("docs/a.txt", ContentFile(b"hello")) == "docs/a.txt"
    assert files_in(tmp_path) == ["docs/a.txt"]
    with storage.open("docs/a.txt") as file:
        assert file.read() == b"hello"


def test_folders_exist_but_have_no_size_and_listings_hide_uploads_in_progress(
    storage, tmp_path
) -> None:
    storage.save("docs/a.txt", ContentFile(b"hello"))
    (tmp_path / "docs" / ".storages-0123456789abcdef.part").write_bytes(b"half")
    (tmp_path / "docs" / "sub").mkdir()
    assert storage.exists("docs")
    assert storage.exists("docs/")
    assert not storage.exists("nothing")
    with pytest.raises(FileNotFoundError):
        storage.size("docs")
    assert storage.size("docs/a.txt") == 5
    assert storage.listdir("docs") == (["sub"], ["a.txt"])
    assert storage.listdir("missing") == ([], [])
    storage.delete("docs/sub")  # an empty folder is deleted, as on FileSystemStorage
    storage.delete("docs/gone.txt")  # a missing file is not an error
    assert storage.listdir("docs") == ([], ["a.txt"])


def test_a_create_only_write_to_a_taken_name_keeps_the_old_file_and_no_temporary(
    storage, tmp_path
) -> None:
    storage.save("a.txt", ContentFile(b"old"))
    request = replace(storage._write_request("a.txt", "a.txt", ContentFile(b"new")), exclusive=True)
    with pytest.raises(AlreadyExistsError):
        storage._write(request)
    assert files_in(tmp_path) == ["a.txt"]
    assert (tmp_path / "a.txt").read_bytes() == b"old"


def test_a_drop_mid_upload_is_retried_on_a_new_connection_and_leaves_no_temporary(
    storage, server, tmp_path
) -> None:
    data = os.urandom(10_000)
    content = Faulty(data, after=4096, fault=server.restart)
    assert storage.save("a.bin", File(content, name="a.bin")) == "a.bin"
    assert content.faults == 1
    assert (tmp_path / "a.bin").read_bytes() == data
    assert files_in(tmp_path) == ["a.bin"]  # the first attempt's file was deleted at once
    assert server.connections == 2


def test_a_stream_that_cannot_be_rewound_is_not_sent_twice(storage, server, tmp_path) -> None:
    storage.save("a.bin", ContentFile(b"old"))
    content = Faulty(os.urandom(10_000), after=4096, fault=server.restart, seekable=False)
    with pytest.raises(TransientError, match="down after 1 runs"):
        storage.save("a.bin", File(content, name="a.bin"))
    assert (tmp_path / "a.bin").read_bytes() == b"old"
    assert files_in(tmp_path) == ["a.bin"]


def test_a_temporary_file_left_while_the_server_is_down_is_deleted_by_the_next_connection(
    storage, server, tmp_path
) -> None:
    def die() -> None:
        server.down = True

    with pytest.raises(TransientError, match="down after"):
        storage.save("a.bin", File(Faulty(os.urandom(10_000), after=4096, fault=die)))
    (leftover,) = files_in(tmp_path)
    assert is_temporary_name(leftover)
    assert storage.sessions.orphans == {str(tmp_path / leftover)}
    server.down = False
    assert not storage.exists("a.bin")  # the first operation after the outage cleans up
    assert files_in(tmp_path) == []
    assert storage.sessions.orphans == set()


def test_bounded_retries_give_a_described_transient_error_and_recover(storage, server) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    server.down = True
    with pytest.raises(TransientError, match="down after 3 runs") as caught:
        storage.exists("a.txt")
    assert isinstance(caught.value.__cause__, TransientError)
    server.down = False
    assert storage.exists("a.txt")


def test_a_content_failure_is_the_callers_error_and_not_retried(storage, tmp_path) -> None:
    class Broken(io.BytesIO):
        reads = 0

        def read(self, size: int | None = -1) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise ValueError("the upload's own content failed")
            return super().read(1024)

    content = Broken(b"x" * 5000)
    with pytest.raises(ValueError, match="own content"):
        storage.save("a.bin", File(content, name="a.bin"))
    assert content.reads == 2
    assert files_in(tmp_path) == []


def test_a_protocol_error_that_is_not_transient_is_raised_at_once(storage, tmp_path) -> None:
    (tmp_path / "a.txt").mkdir()  # a folder where the upload's rename wants a file
    (tmp_path / "a.txt" / "inside").write_bytes(b"")
    with pytest.raises(IsADirectoryError) as caught:
        storage.save("a.txt", ContentFile(b"new"))
    assert not isinstance(caught.value, StorageError)  # not a transient error: no retry
    assert files_in(tmp_path) == ["a.txt/inside"]


# -- a create-only write resent after its answer was lost (issue 10, defect 3) ------------


def test_a_rename_done_but_whose_answer_was_lost_is_kept_once_under_its_name(
    storage, tmp_path
) -> None:
    storage.file_overwrite = False
    storage.lose_rename = "after"  # the file is in place, the answer never arrives
    assert storage.save("a.txt", ContentFile(b"stored once")) == "a.txt"
    assert files_in(tmp_path) == ["a.txt"]  # no second copy, no temporary file
    assert (tmp_path / "a.txt").read_bytes() == b"stored once"


def test_a_rename_lost_before_it_was_done_is_retried_and_leaves_no_temporary(
    storage, tmp_path
) -> None:
    storage.file_overwrite = False
    storage.lose_rename = "before"
    assert storage.save("a.txt", ContentFile(b"stored once")) == "a.txt"
    assert files_in(tmp_path) == ["a.txt"]
    assert (tmp_path / "a.txt").read_bytes() == b"stored once"


def test_a_clash_with_another_writers_file_is_not_taken_for_our_own(storage, tmp_path) -> None:
    storage.file_overwrite = False
    (tmp_path / "a.txt").write_bytes(b"someone else")  # after the name was checked, say
    request = storage._write_request("a.txt", "a.txt", ContentFile(b"mine"))
    request.exclusive = True
    with pytest.raises(AlreadyExistsError) as caught:
        storage._write(request)
    assert not storage._is_own_write(request, caught.value)
    assert (tmp_path / "a.txt").read_bytes() == b"someone else"


def test_a_resent_write_whose_file_was_replaced_since_is_not_ours(storage, tmp_path) -> None:
    request = storage._write_request("a.txt", "a.txt", ContentFile(b"mine"))
    request.exclusive = True
    storage._write(request)
    (tmp_path / "a.txt").write_bytes(b"replaced by another writer")
    request.content.seek(0)
    with pytest.raises(AlreadyExistsError) as caught:
        storage._write(request)
    assert not storage._is_own_write(request, caught.value)


def _left_behind(path: Path, hours_ago: float) -> Path:
    """A temporary file as a killed upload leaves it, last written ``hours_ago``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a file")
    when = datetime.now(timezone.utc).timestamp() - hours_ago * 3600
    os.utime(path, (when, when))
    return path


def test_abandoned_uploads_are_found_in_every_folder_and_deleted(storage, tmp_path) -> None:
    storage.save("docs/kept.txt", ContentFile(b"a file"))
    old = [
        _left_behind(tmp_path / ".storages-00112233aabbccdd.part", 25),
        _left_behind(tmp_path / "docs/deep/.storages-0123456789abcdef.part", 48),
    ]
    live = _left_behind(tmp_path / "docs/.storages-fedcba9876543210.part", 0.1)
    stale_file = _left_behind(tmp_path / "docs/.storages-old-but-not-ours.part", 100)
    assert storage.remove_abandoned_uploads(dry_run=True) == [
        ".storages-00112233aabbccdd.part",
        "docs/deep/.storages-0123456789abcdef.part",
    ]
    assert all(path.exists() for path in old)  # a dry run deletes nothing
    assert storage.remove_abandoned_uploads("docs") == ["docs/deep/.storages-0123456789abcdef.part"]
    assert old[0].exists()  # outside the folder asked for
    assert storage.remove_abandoned_uploads(older_than=3600) == [".storages-00112233aabbccdd.part"]
    assert not any(path.exists() for path in old)
    assert live.exists()  # an upload in progress: written minutes ago
    assert stale_file.exists()  # not a name our uploads use
    assert storage.listdir("docs") == (["deep"], [stale_file.name, "kept.txt"])  # live: hidden
