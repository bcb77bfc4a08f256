"""Where the demo stores its files: an embedded local server, or a real one.

``DEMO_STORAGE`` picks the backend, with no code change:

* ``s3`` (the default): moto's S3 server, started in this process on 127.0.0.1, a
  bucket created in it, and ``storages_s3.S3Storage`` pointed at it. Set
  ``DEMO_S3_ENDPOINT`` to use an S3 server that is already running instead.
* ``ftp``: pyftpdlib in this process, and ``storages_ftp.FTPStorage``.
* ``sftp``: a private OpenSSH ``sshd`` (when ``/usr/sbin/sshd`` exists) and
  ``storages_sftp.SFTPStorage``, with a host key the storage is told to trust.
* ``gcs``: gcp-storage-emulator in this process (made faithful by
  ``storages_gcs.testing``), ``storages_gcs.GoogleCloudStorage`` pointed at it
  (``STORAGE_EMULATOR_HOST``), URLs and direct uploads signed with a service-account key
  generated at start, and checked by the emulator.
* ``azure``: Azurite (npm, from the repo's ``node_modules``) started by the demo on
  127.0.0.1, a private container in it, and ``storages_azure.AzureStorage`` with SAS
  URLs (``AZURE_EMULATED_MODE``). Set ``DEMO_AZURITE_HOST`` (``127.0.0.1:10000``) to use
  an Azurite that is already running instead.
* ``dropbox``: ``storages_dropbox.testing.DropboxServer`` (a local Dropbox API server)
  in this process, and ``storages_dropbox.DropboxStorage`` with an app's refresh token
  made up at start; temporary links served over plain HTTP for the browser.
* ``libcloud``: ``storages_libcloud.LibCloudStorage`` on libcloud's LOCAL driver, its
  container a temporary folder; files served through the gallery's ``/media/`` view.
* ``memory``: ``storages_base.memory.MemoryStorage`` (no server at all).
* ``real``: a real bucket or server. ``DEMO_BACKEND`` names the backend class
  (default ``storages_s3.S3Storage``) and the provider's usual settings come from
  environment variables of the same names (``AWS_STORAGE_BUCKET_NAME``,
  ``AWS_S3_REGION_NAME``, ``FTP_STORAGE_LOCATION``, ``SFTP_STORAGE_HOST``...);
  values that read as JSON (``{"port": 2222}``, ``false``, ``300``) are decoded.

Every embedded server listens on 127.0.0.1 only, uses credentials generated at
start, and lives as long as the process; so does its content.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storages_base.testing import free_port

__all__ = ["KINDS", "Backend", "configure_cors", "start", "temporary_folder"]

KINDS = ("s3", "ftp", "sftp", "memory", "real", "gcs", "azure", "dropbox", "libcloud")
BUCKET = "demo-media"
#: Settings prefixes copied from the environment in ``real`` mode.
SETTING_PREFIXES = ("AWS_", "GS_", "AZURE_", "DROPBOX_", "FTP_", "SFTP_", "LIBCLOUD_")
#: Variables boto3 reads itself (and refreshes): left to it, never copied into settings.
SDK_OWN = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_CA_BUNDLE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
}
MEDIA_URL = "/media/"


@dataclass
class Backend:
    """What the settings need from a started backend, and what the demo page shows."""

    kind: str
    storages: dict[str, Any]
    description: str
    settings: dict[str, Any] = field(default_factory=dict)
    endpoint: str | None = None


def start(kind: str) -> Backend:
    """Start the embedded server of ``kind`` (if any) and return its storage settings."""
    starters = {
        "s3": _s3,
        "ftp": _ftp,
        "sftp": _sftp,
        "memory": _memory,
        "real": _real,
        "gcs": _gcs,
        "azure": _azure,
        "dropbox": _dropbox,
        "libcloud": _libcloud,
    }
    if kind not in starters:
        raise SystemExit(f"DEMO_STORAGE={kind!r}: choose one of {', '.join(KINDS)}.")
    return starters[kind]()


def _storages(backend: str, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "default": {"BACKEND": backend, "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# -- S3 on moto ------------------------------------------------------------------------


def _s3() -> Backend:
    endpoint = os.environ.get("DEMO_S3_ENDPOINT") or _start_moto()
    # moto accepts any key pair; these are made up here so no key is ever written down.
    access_key, secret_key = "demo" + secrets.token_hex(6), secrets.token_urlsafe(24)
    _client(endpoint, access_key, secret_key).create_bucket(Bucket=BUCKET)
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "access_key": access_key,
        "secret_key": secret_key,
        "signature_version": "s3v4",
        "file_overwrite": False,
        "querystring_expire": 600,
    }
    return Backend(
        kind="s3",
        storages=_storages("storages_s3.S3Storage", options),
        description=f"S3 (moto) at {endpoint}, bucket {BUCKET!r}",
        endpoint=endpoint,
        settings={"DEMO_S3": {"endpoint": endpoint, "key": access_key, "secret": secret_key}},
    )


def _start_moto() -> str:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    atexit.register(server.stop)
    return f"http://127.0.0.1:{port}"


def _client(endpoint: str, access_key: str, secret_key: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )


def configure_cors(origin: str) -> None:
    """Let the demo page at ``origin`` POST straight to the bucket (browser uploads).

    A browser sends a cross-origin POST without asking first, but only lets the page
    read the answer when the bucket's CORS rules name the page's origin.
    """
    from django.conf import settings

    azure = getattr(settings, "DEMO_AZURE", None)
    if azure:
        _azure_cors(azure["connection_string"], origin)
    s3 = getattr(settings, "DEMO_S3", None)
    if not s3:
        return
    _client(s3["endpoint"], s3["key"], s3["secret"]).put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [origin],
                    "AllowedMethods": ["GET", "POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "Location"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )


# -- Azure Blob on Azurite ------------------------------------------------------------

#: Azurite's well-known development account (public documentation, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_BIN = Path(__file__).resolve().parents[3] / "node_modules" / ".bin" / "azurite-blob"


def _azure() -> Backend:
    host = os.environ.get("DEMO_AZURITE_HOST") or _start_azurite()
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://{host}/{AZURITE_ACCOUNT};"
    )
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection_string, retry_total=0)
    if not service.get_container_client(BUCKET).exists():
        service.create_container(BUCKET)  # private: the gallery's URLs are SAS URLs
    options = {
        "azure_container": BUCKET,
        "emulated_mode": True,
        "custom_domain": host,
        "azure_ssl": False,
        "expiration_secs": 600,
    }
    return Backend(
        kind="azure",
        storages=_storages("storages_azure.AzureStorage", options),
        description=f"Azure Blob (Azurite) at http://{host}, container {BUCKET!r}",
        endpoint=f"http://{host}",
        settings={"DEMO_AZURE": {"connection_string": connection_string}},
    )


def _start_azurite() -> str:
    import subprocess

    from storages_base.testing import wait_port

    if not AZURITE_BIN.exists() or shutil.which("node") is None:
        raise SystemExit(
            f"DEMO_STORAGE=azure needs Azurite ({AZURITE_BIN}): run `npm ci` at the repo "
            "root (it installs the test servers), or set DEMO_AZURITE_HOST=host:port."
        )
    port = free_port()
    process = subprocess.Popen(
        [
            str(AZURITE_BIN),
            "--blobHost", "127.0.0.1", "--blobPort", str(port),
            "--location", temporary_folder("demo-azurite-"),
            "--silent", "--skipApiVersionCheck", "--disableTelemetry",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    atexit.register(process.terminate)
    wait_port(port, process)
    return f"127.0.0.1:{port}"


def _azure_cors(connection_string: str, origin: str) -> None:
    """Let the demo page PUT straight to the container (Azurite checks CORS like Azure)."""
    from azure.storage.blob import BlobServiceClient, CorsRule

    service = BlobServiceClient.from_connection_string(connection_string, retry_total=0)
    rule = CorsRule(
        [origin],
        ["GET", "PUT", "OPTIONS"],
        allowed_headers=["*"],
        exposed_headers=["*"],
        max_age_in_seconds=600,
    )
    service.set_service_properties(cors=[rule])


# -- Dropbox on the local Dropbox API server ---------------------------------------------


def _dropbox() -> Backend:
    from storages_dropbox.testing import DropboxServer

    server = DropboxServer(temporary_folder("demo-dropbox-"), page_size=100, links_over_http=True)
    server.start()
    atexit.register(server.stop)
    app_key, app_secret = "demo-app", secrets.token_urlsafe(16)
    options = {
        "app_key": app_key,
        "app_secret": app_secret,
        "oauth2_refresh_token": server.register_app(app_key, app_secret),
        "root_path": "/demo-media",
        "api_host": server.host,
        "ca_bundle": server.ca_path,
    }
    return Backend(
        kind="dropbox",
        storages=_storages("storages_dropbox.DropboxStorage", options),
        description=f"Dropbox (local Dropbox API server) at https://{server.host}, "
        "folder /demo-media",
        endpoint=server.link_base,
    )


# -- GCS on gcp-storage-emulator ----------------------------------------------------------


def _gcs() -> Backend:
    from storages_gcs.testing import GCSEmulator

    logging.getLogger("api.object").setLevel(logging.ERROR)
    # gcp-storage-emulator made faithful (storages_gcs.testing): signed URLs and direct
    # uploads are checked against the key made up here, as GCS checks them.
    server = GCSEmulator().start()
    atexit.register(server.stop)
    server.create_bucket(BUCKET)
    credentials, public_key = _service_account()
    server.signers[credentials.signer_email] = public_key
    # The SDK's own switch: requests go to the emulator, without credentials.
    os.environ["STORAGE_EMULATOR_HOST"] = server.url
    options = {
        "bucket_name": BUCKET,
        "credentials": credentials,
        "file_overwrite": False,
        "expiration": 600,
    }
    return Backend(
        kind="gcs",
        storages=_storages("storages_gcs.GoogleCloudStorage", options),
        description=f"Google Cloud Storage (gcp-storage-emulator) at {server.url}, "
        f"bucket {BUCKET!r}",
        endpoint=server.url,
    )


def _service_account() -> tuple[Any, Any]:
    """A service account made up at start, whose key signs the URLs (no Google account)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    credentials = service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "client_email": "demo@demo-project.iam.gserviceaccount.com",
            "private_key": pem,
            "private_key_id": secrets.token_hex(20),
            "token_uri": f"http://127.0.0.1:{free_port()}/token",  # never asked
            "project_id": "demo-project",
        }
    )
    return credentials, key.public_key()


# -- FTP on pyftpdlib ------------------------------------------------------------------


def _ftp() -> Backend:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    home = temporary_folder("demo-ftp-")
    password = secrets.token_urlsafe(12)
    authorizer = DummyAuthorizer()
    authorizer.add_user("demo", password, home, perm="elradfmwMT")
    handler = type("DemoFTPHandler", (FTPHandler,), {"authorizer": authorizer})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"timeout": 0.5}, daemon=True, name="demo-ftp"
    ).start()
    atexit.register(server.close_all)
    port = server.address[1]
    options = {"location": f"ftp://demo:{password}@127.0.0.1:{port}/", "base_url": MEDIA_URL}
    return Backend(
        kind="ftp",
        storages=_storages("storages_ftp.FTPStorage", options),
        description=f"FTP (pyftpdlib) at 127.0.0.1:{port}, folder {home}",
    )


# -- SFTP on a private sshd --------------------------------------------------------------


def _sftp() -> Backend:
    from storages_sftp.testing import SSHD_BINARY, SSHServer

    if not Path(SSHD_BINARY).exists():
        raise SystemExit("DEMO_STORAGE=sftp needs OpenSSH's sshd (apt-get install openssh-server).")
    folder = Path(temporary_folder("demo-sftp-"))
    root = folder / "files"
    root.mkdir()
    server = SSHServer(folder)
    server.start()
    atexit.register(server.stop)
    address = server.address()
    options = {
        "host": "127.0.0.1",
        "root_path": str(root),
        "params": {
            "port": address["port"],
            "username": address["username"],
            "key_filename": address["key_filename"],
            "look_for_keys": False,
            "allow_agent": False,
        },
        "known_host_file": address["known_host_file"],
        "base_url": MEDIA_URL,
    }
    return Backend(
        kind="sftp",
        storages=_storages("storages_sftp.SFTPStorage", options),
        description=f"SFTP (OpenSSH sshd) at 127.0.0.1:{address['port']}, folder {root}",
    )


# -- no server, or a real one ------------------------------------------------------------


def _libcloud() -> Backend:
    from storages_libcloud import LibCloudStorage

    root = temporary_folder("demo-libcloud-")
    providers = {
        "default": {"type": "libcloud.storage.types.Provider.LOCAL", "user": root, "bucket": BUCKET}
    }
    LibCloudStorage(providers=providers).driver.create_container(BUCKET)
    options = {"base_url": MEDIA_URL, "file_overwrite": False}
    return Backend(
        kind="libcloud",
        storages=_storages("storages_libcloud.LibCloudStorage", options),
        description=f"Apache Libcloud (LOCAL driver), container {BUCKET!r} in {root}",
        settings={"LIBCLOUD_PROVIDERS": providers},
    )


def _memory() -> Backend:
    return Backend(
        kind="memory",
        storages=_storages("storages_base.memory.MemoryStorage", {"base_url": MEDIA_URL}),
        description="memory (storages_base.memory.MemoryStorage, gone when the demo stops)",
    )


def _real() -> Backend:
    backend = os.environ.get("DEMO_BACKEND", "storages_s3.S3Storage")
    values = {
        name: _decode(value)
        for name, value in os.environ.items()
        if name.startswith(SETTING_PREFIXES) and name.isupper() and name not in SDK_OWN
    }
    shown = ", ".join(sorted(name for name in values if "SECRET" not in name and "KEY" not in name))
    return Backend(
        kind="real",
        storages=_storages(backend, {}),
        description=f"{backend} configured by the environment ({shown or 'no settings'})",
        settings=values,
    )


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def temporary_folder(prefix: str) -> str:
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return folder
