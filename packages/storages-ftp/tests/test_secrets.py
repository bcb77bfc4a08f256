"""Secrets (issue 16, check 4): the password of the FTP URL never leaks."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_ftp import FTPStorage

from .conftest import FTPServer


def test_no_secret_leaks(start_server: Callable[..., Any], tmp_path: Path) -> None:
    # Characters a URL must quote: the password appears quoted in the setting.
    password = secrets.token_urlsafe(12) + "@:/#?%"
    wrong = secrets.token_urlsafe(12) + "@:/#?%"
    server = start_server(tmp_path, users={"user": (password, "elradfmwMT")})
    ftp = FTPServer("ftp", "127.0.0.1", server.address[1], "user", password, tmp_path)
    scan = SecretScan({"password": password, "wrong password": wrong})
    made: list[FTPStorage] = []

    def storage(**options: Any) -> FTPStorage:
        made.append(FTPStorage(**{"encoding": "utf-8", "retries": 0, "timeout": 5, **options}))
        return made[-1]

    try:
        with scan.logs():
            working = storage(location=ftp.location("/"), base_url="https://files.example/")
            working.save("there.txt", ContentFile(b"x"))
            assert working.url("there.txt") == "https://files.example/there.txt"
            scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
            scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
            working.delete("there.txt")
            refused = storage(location=ftp.location("/", password=wrong))
            scan.error(lambda: refused.exists("a.txt"))
            scan.error(lambda: refused.save("a.txt", ContentFile(b"x")))
            closed = FTPServer("ftp", "127.0.0.1", free_port(), "user", wrong, None)
            unreachable = storage(location=closed.location("/"), retries=1)  # logs its retry
            scan.error(lambda: unreachable.exists("a.txt"))
            scan.error(lambda: unreachable.save("a.txt", ContentFile(b"x")))
        for each in made:
            scan.storage(each)
    finally:
        for each in made:
            each.close()
        server.close_all()
    confirm("FTP", "4. Secrets", scan.figures())
