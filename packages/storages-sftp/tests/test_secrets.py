"""Secrets (issue 16, check 4): SSH passwords and key passphrases never leak."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_sftp import SFTPStorage
from storages_sftp.testing import encrypt_key

from .conftest import params_for


def test_no_secret_leaks(
    sshd: dict[str, Any], storage_factory: Callable[..., SFTPStorage], tmp_path: Path
) -> None:
    passphrase = secrets.token_urlsafe(12)
    password = secrets.token_urlsafe(12)
    wrong_passphrase = secrets.token_urlsafe(12)
    # The test's client key, encrypted with a generated passphrase: the server knows it.
    encrypted = encrypt_key(sshd["key_filename"], tmp_path / "encrypted_key", passphrase)
    scan = SecretScan(
        {"passphrase": passphrase, "password": password, "wrong passphrase": wrong_passphrase}
    )
    with scan.logs():
        working = storage_factory(
            params=params_for(sshd, key_filename=str(encrypted), passphrase=passphrase),
            location="media",
        )
        working.save("there.txt", ContentFile(b"x"))
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
        refused = [
            # The server takes keys only: the password is refused.
            storage_factory(
                params={**params_for(sshd), "key_filename": None, "password": password}
            ),
            storage_factory(
                params=params_for(sshd, key_filename=str(encrypted), passphrase=wrong_passphrase)
            ),
            storage_factory(
                params={**params_for(sshd, password=password, timeout=5), "port": free_port()}
            ),
        ]
        for storage in refused:
            scan.error(lambda: storage.exists("a.txt"))  # noqa: B023
            scan.error(lambda: storage.save("a.txt", ContentFile(b"x")))  # noqa: B023
    for storage in (working, *refused):
        scan.storage(storage)
    confirm("SFTP", "4. Secrets", scan.figures())
