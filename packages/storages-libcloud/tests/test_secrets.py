"""Secrets (issue 16, check 4): the driver's key and secret never leak."""

from __future__ import annotations

import base64
import secrets

from django.core.files.base import ContentFile

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_libcloud import LibCloudStorage

from .conftest import Driver


def test_no_secret_leaks(s3_driver: Driver, azure_driver: Driver) -> None:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    secret = secrets.token_urlsafe(30)
    azure_key = base64.b64encode(secrets.token_bytes(64)).decode()
    scan = SecretScan({"S3 key": key_id, "S3 secret": secret, "Azure account key": azure_key})
    bucket = s3_driver.new_container()
    with_keys = {**s3_driver.entry(bucket), "user": key_id, "key": secret}
    with scan.logs():
        # moto takes any key: the storage works, a missing file fails.
        working = LibCloudStorage(providers={"default": with_keys}, location="media")
        working.save("there.txt", ContentFile(b"x"))
        assert working.exists("there.txt")
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
        # Azurite checks the signature: an account key it does not know is refused.
        azure = azure_driver.new_container()
        refused = LibCloudStorage(
            providers={"default": {**azure_driver.entry(azure), "key": azure_key}}
        )
        scan.error(lambda: refused.exists("a.txt"))
        scan.error(lambda: refused.save("a.txt", ContentFile(b"x")))
        unreachable = LibCloudStorage(providers={"default": {**with_keys, "port": free_port()}})
        scan.error(lambda: unreachable.exists("a.txt"))
        scan.error(lambda: unreachable.save("a.txt", ContentFile(b"x")))
    for storage in (working, refused, unreachable):
        scan.storage(storage)
    confirm("Libcloud", "4. Secrets", scan.figures())
