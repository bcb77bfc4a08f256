"""Secrets (issue 16, check 4): account keys, SAS tokens and connection strings never leak."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from azure.storage.blob import generate_container_sas
from django.core.files.base import ContentFile

from storages_azure import AzureStorage
from storages_azure.client import EMULATOR_KEY
from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm

from .conftest import ACCOUNT, Azurite

NO_RETRY = {"retry_total": 0}


def test_no_secret_leaks(azurite: Azurite, container: str) -> None:
    wrong_key = base64.b64encode(secrets.token_bytes(64)).decode()
    sas = generate_container_sas(
        ACCOUNT,
        container,
        account_key=EMULATOR_KEY,
        permission="rwdl",
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    forged_sas = sas.split("sig=")[0] + "sig=" + quote(base64.b64encode(secrets.token_bytes(32)))
    blob_endpoint = f"BlobEndpoint={azurite.endpoint};"
    with_key = f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey="
    scan = SecretScan(
        {
            # Azurite's development key is public, but it is the key this storage signs
            # with: any leak of it would show where a real key leaks.
            "account key (working)": EMULATOR_KEY,
            "account key (wrong)": wrong_key,
            "SAS signature (working)": sas.split("sig=")[1],
            "SAS signature (forged)": forged_sas.split("sig=")[1],
        }
    )
    with scan.logs():
        working = AzureStorage(
            **azurite.options(container, location="media", account_key=EMULATOR_KEY)
        )
        working.save("there.txt", ContentFile(b"x"))
        assert "sig=" in working.url("there.txt", expire=60)
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
        by_sas = AzureStorage(**azurite.options(container, sas_token=sas))
        by_sas.save("sas.txt", ContentFile(b"x"))
        by_sas.delete("sas.txt")
        scan.error(lambda: by_sas.open("missing.txt"), FileNotFoundError)
        refused = [
            AzureStorage(
                **azurite.options(container, account_key=wrong_key, client_options=NO_RETRY)
            ),
            AzureStorage(
                azure_container=container,
                connection_string=f"{with_key}{wrong_key};{blob_endpoint}",
                client_options=NO_RETRY,
            ),
            AzureStorage(
                **azurite.options(container, sas_token=forged_sas, client_options=NO_RETRY)
            ),
        ]
        for storage in refused:
            scan.error(lambda: storage.exists("a.txt"))  # noqa: B023
            scan.error(lambda: storage.save("a.txt", ContentFile(b"x")))  # noqa: B023
        unreachable = AzureStorage(
            azure_container=container,
            connection_string=(
                f"{with_key}{wrong_key};BlobEndpoint=http://127.0.0.1:{free_port()}/{ACCOUNT};"
            ),
            client_options=NO_RETRY,
        )
        scan.error(lambda: unreachable.exists("a.txt"))
        scan.error(lambda: unreachable.save("a.txt", ContentFile(b"x")))
    for storage in (working, by_sas, *refused, unreachable):
        scan.storage(storage)
    confirm("Azure", "4. Secrets", scan.figures())
