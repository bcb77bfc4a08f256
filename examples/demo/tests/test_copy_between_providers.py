"""``storages_copy`` between two providers' real servers: S3 (moto) and FTP (pyftpdlib).

Moving a site from one provider to another is what the command is for; here both
servers run on 127.0.0.1 in this process, and the workspace has both packages.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.test import override_settings

from storages_base.management.commands import storages_copy

pytest.importorskip("storages_ftp", reason="storages-ftp is not installed")
pytest.importorskip("storages_s3", reason="storages-s3 is not installed")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import boto3
    from moto.server import ThreadedMotoServer
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import ThreadedFTPServer

    from storages_base.testing import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    key, secret = secrets.token_hex(8), secrets.token_hex(16)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    ).create_bucket(Bucket="site")
    home = tmp_path_factory.mktemp("ftp")
    password = secrets.token_urlsafe(10)
    authorizer = DummyAuthorizer()
    authorizer.add_user("site", password, str(home), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    ftp = ThreadedFTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    threading.Thread(target=ftp.serve_forever, kwargs={"timeout": 0.2}, daemon=True).start()
    yield {
        "STORAGES": {
            "s3": {
                "BACKEND": "storages_s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "site",
                    "endpoint_url": endpoint,
                    "region_name": "us-east-1",
                    "access_key": key,
                    "secret_key": secret,
                    "location": "media",
                },
            },
            "ftp": {
                "BACKEND": "storages_ftp.FTPStorage",
                "OPTIONS": {"location": f"ftp://site:{password}@127.0.0.1:{ftp.address[1]}/"},
            },
        },
        "ftp_home": home,
    }
    ftp.close_all()
    moto.stop()


def copy(*args: str) -> str:
    out = io.StringIO()
    call_command(storages_copy.Command(), *args, stdout=out, no_color=True)
    return out.getvalue()


def test_a_site_moves_from_s3_to_ftp_and_back_and_a_second_run_copies_nothing(
    servers: dict[str, Any],
) -> None:
    files = {f"photos/{i}.jpg": secrets.token_bytes(2000 + i) for i in range(8)}
    files["index.txt"] = b"listing"
    home: Path = servers["ftp_home"]
    with override_settings(STORAGES=servers["STORAGES"]):
        for name, data in files.items():
            storages["s3"].save(name, ContentFile(data))

        to_ftp = copy("s3", "ftp", "--workers", "4")
        again = copy("s3", "ftp")
        (home / "photos" / "new.jpg").write_bytes(b"added on the FTP side")
        back = copy("ftp", "s3")
        s3 = storages["s3"]
        returned = s3.open("photos/new.jpg").read()

    assert "copied 9, skipped 0 already there, failed 0" in to_ftp
    assert {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*.*")} == {
        **files,
        "photos/new.jpg": b"added on the FTP side",
    }
    assert "copied 0, skipped 9 already there" in again
    assert "copied 1, skipped 9 already there, failed 0" in back
    assert returned == b"added on the FTP side"
