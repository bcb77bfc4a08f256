"""Hostile names (issue 16, check 3) against pyftpdlib: the server's disk is walked."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import FolderNotEmptyError
from storages_base.testing.hostile import check_hostile_names, disk_listing
from storages_base.testing.reliability import confirm
from storages_ftp import FTPStorage

from .conftest import FTPServer

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    # A server of its own whose home holds nothing else: all of it is walked. The root is
    # three folders down, so a name climbing out of it lands where the walk sees it.
    password = secrets.token_urlsafe(9)
    server = start_server(tmp_path, users={"user": (password, "elradfmwMT")})
    try:
        ftp = FTPServer("ftp", "127.0.0.1", server.address[1], "user", password, tmp_path)
        (tmp_path / "a" / "media" / "sub").mkdir(parents=True)
        storage = FTPStorage(location=ftp.location("/a/media/sub"), encoding="utf-8")
        try:
            tally = check_hostile_names(
                storage, disk_listing(tmp_path), "a/media/sub/", max_examples=examples
            )
        finally:
            storage.close()
    finally:
        server.close_all()
    confirm("FTP", ROWS[examples], tally.figures())


def test_deleting_a_folder_that_holds_files_is_refused(
    make_ftp: Callable[..., FTPStorage], folder: Path
) -> None:
    storage = make_ftp()
    storage.save("d/e/x.txt", ContentFile(b"x"))
    for name in ("d", "d/", "d\\", "d/e/"):
        with pytest.raises(FolderNotEmptyError, match="still holds files"):
            storage.delete(name)
    assert (folder / "d" / "e" / "x.txt").read_bytes() == b"x"
