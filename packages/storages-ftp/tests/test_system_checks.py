"""FTP's system checks (``manage.py check``): read from settings, no connection made."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from storages_base.checks import check_storages
from storages_base.testing import free_port, wait_port

FTP = "storages_ftp.FTPStorage"
PASSWORD = secrets.token_hex(9)  # a command-line argument: no leading "-"


def test_a_missing_server_location_is_an_error_naming_the_setting() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": FTP}}):
        found = check_storages()

    assert [m.id for m in found] == ["storages_ftp.E001"]
    assert found[0].hint == (
        "Set FTP_STORAGE_LOCATION (or STORAGES['default']['OPTIONS']['location'])."
    )


def test_a_server_location_passes_without_connecting() -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": FTP}},
        FTP_STORAGE_LOCATION="ftp://user:secret@203.0.113.9:21/media/",
    ):
        assert check_storages() == []


# -- storages_check against pyftpdlib ---------------------------------------------------------


def pyftpdlib_process(home: Path, *, writable: bool) -> tuple[subprocess.Popen[bytes], int]:
    """pyftpdlib's own command line server: one user, read-only unless ``writable``."""
    port = free_port()
    command = [sys.executable, "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(port)]
    command += ["-d", str(home), "-u", "user", "-P", PASSWORD] + (["-w"] if writable else [])
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A writable and a read-only server, each in a process of its own (no state shared
    with the in-process servers of the other tests)."""
    started = {
        kind: pyftpdlib_process(tmp_path_factory.mktemp(f"ftp-{kind}"), writable=writable)
        for kind, writable in (("writable", True), ("read-only", False))
    }
    yield {
        kind: "ftp://user:{password}@127.0.0.1:" + str(port) + "/"
        for kind, (_proc, port) in started.items()
    }
    for proc, _port in started.values():
        proc.terminate()
        proc.wait(10)


def storages_check(location: str) -> tuple[str, int]:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from storages_base.management.commands import storages_check as command

    out = io.StringIO()
    with override_settings(
        STORAGES={"default": {"BACKEND": FTP, "OPTIONS": {"location": location}}}
    ):
        try:
            call_command(command.Command(), stdout=out, no_color=True)
        except CommandError as exc:
            return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def test_storages_check_passes_on_a_working_server(servers: dict[str, str]) -> None:
    output, status = storages_check(servers["writable"].format(password=PASSWORD))

    assert status == 0, output
    assert "default  storages_ftp.storage.FTPStorage" in output


def test_storages_check_says_a_refused_login_is_the_user_or_password(
    servers: dict[str, str],
) -> None:
    output, status = storages_check(servers["writable"].format(password="wrong"))

    assert status == 1
    assert "check the user and password in FTP_STORAGE_LOCATION" in output


def test_storages_check_says_the_user_may_not_write_there(servers: dict[str, str]) -> None:
    output, status = storages_check(servers["read-only"].format(password=PASSWORD))

    assert status == 1
    assert "The FTP user may not save here" in output
