"""Helpers for starting real local servers in tests (loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

__all__ = ["azurite_command", "free_port", "moto_md5_command", "server_missing", "wait_port"]

#: Set by the full test command: a server the tests need and cannot find fails the run
#: (a skipped suite must not pass for a tested one in CI).
REQUIRE_VARIABLE = "STORAGES_TEST_REQUIRE_SERVERS"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (SDKs retry far too long)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def server_missing(reason: str) -> NoReturn:
    """Skip the tests needing a server that is not installed; fail them under the test command."""
    import pytest

    if os.environ.get(REQUIRE_VARIABLE):
        pytest.fail(f"{reason} ({REQUIRE_VARIABLE} is set: the test command installs it)")
    pytest.skip(reason)


def azurite_command(
    binary: Path, folder: Path, *, loose: bool = False
) -> Callable[[int], list[str]]:
    """Azurite's blob service on a given port keeping its data in ``folder`` (for
    ``ServerProcess``); ``loose`` lets through headers Azurite does not know (libcloud's)."""

    def command(port: int) -> list[str]:
        return [
            str(binary),
            *("--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder)),
            *("--silent", "--skipApiVersionCheck", *(["--loose"] if loose else [])),
            "--disableTelemetry",
        ]

    return command


def moto_md5_command(port: int) -> list[str]:
    """moto's server checking ``Content-MD5`` as S3 does (``storages_base.testing.moto_md5``)."""
    return [
        sys.executable,
        "-m",
        "storages_base.testing.moto_md5",
        "-H",
        "127.0.0.1",
        "-p",
        str(port),
    ]
