"""Commands per operation, counted by the server: what each Storage call costs on the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_ftp import FTPStorage


@pytest.fixture
def counted(
    tmp_path: Path, start_server: Callable[..., Any]
) -> Iterator[tuple[FTPStorage, list[str]]]:
    """A storage on a server that records every command verb it receives."""
    from pyftpdlib.handlers import FTPHandler

    seen: list[str] = []

    def pre_process_command(self: Any, line: str, cmd: str, arg: str) -> None:
        seen.append(cmd)
        FTPHandler.pre_process_command(self, line, cmd, arg)

    server = start_server(
        tmp_path, users={"u": ("p", "elradfmwMT")}, pre_process_command=pre_process_command
    )
    storage = FTPStorage(location=f"ftp://u:p@127.0.0.1:{server.address[1]}/", allow_overwrite=True)
    storage.save("warm/up.txt", ContentFile(b"x"))  # log in, learn the features
    try:
        yield storage, seen
    finally:
        storage.close()
        server.close_all()


def commands(seen: list[str], operation: Callable[[], object]) -> list[str]:
    start = len(seen)
    operation()
    return sorted(seen[start:])


def test_each_operation_costs_the_fewest_commands(counted: tuple[FTPStorage, list[str]]) -> None:
    """django-storages sends 4 to 14 commands for these (PWD, CWD, NLST, LIST per call)."""
    storage, seen = counted
    storage.save("docs/a.txt", ContentFile(b"hello"))

    def read() -> bytes:
        with storage.open("docs/a.txt") as file:
            return file.read()

    assert commands(seen, lambda: storage.exists("docs/a.txt")) == ["MLST"]
    assert commands(seen, lambda: storage.exists("docs/missing.txt")) == ["MLST"]
    assert commands(seen, lambda: storage.size("docs/a.txt")) == ["MLST"]
    assert commands(seen, lambda: storage.get_modified_time("docs/a.txt")) == ["MLST"]
    assert commands(seen, read) == ["MLST", "PASV", "RETR"]
    assert commands(seen, lambda: storage.listdir("docs")) == ["MLSD", "PASV", "TYPE"]
    # The session is in ASCII mode now: another listing sends no TYPE.
    assert commands(seen, lambda: storage.listdir("docs")) == ["MLSD", "PASV"]
    saved = commands(seen, lambda: storage.save("docs/b.txt", ContentFile(b"bye")))
    # Upload, check the size stored (FTP has no checksum), rename (TYPE I again).
    assert saved == ["PASV", "RNFR", "RNTO", "SIZE", "STOR", "TYPE"]
    assert commands(seen, lambda: storage.delete("docs/b.txt")) == ["DELE"]


def test_a_session_asks_for_the_facts_it_reads_once_at_login(
    counted: tuple[FTPStorage, list[str]],
) -> None:
    storage, seen = counted
    assert seen.count("OPTS") == 1  # OPTS MLST type;size;modify; (pyftpdlib also sends perm)
    assert storage.size("warm/up.txt") == 1
    assert storage.get_modified_time("warm/up.txt").year > 2000
    assert storage.listdir("warm") == ([], ["up.txt"])


def test_a_save_that_must_not_overwrite_checks_the_name_twice(
    counted: tuple[FTPStorage, list[str]],
) -> None:
    storage, seen = counted
    storage.allow_overwrite = storage.file_overwrite = False
    saved = commands(seen, lambda: storage.save("warm/c.txt", ContentFile(b"new")))
    # Django's free-name check, then the check just before the rename (FTP has no
    # rename-unless-exists, so that is as close as the race can be narrowed).
    assert saved == ["MLST", "MLST", "PASV", "RNFR", "RNTO", "SIZE", "STOR"]
