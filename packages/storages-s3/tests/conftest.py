from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import pytest  # noqa: E402
from botocore.config import Config  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from storages_base.testing.servers import free_port, server_missing, wait_port  # noqa: E402
from storages_s3 import S3Storage, urls  # noqa: E402

FROZEN = 1_795_000_000  # 2026-11-18T...Z, a whole second: the instant URL tests sign at


@contextmanager
def own_moto_process(log: Path | None = None) -> Iterator[str]:
    """moto in a process of its own (its memory and its IAM mode apart from the tests'),
    yielding its endpoint; stopped on exit."""
    port = free_port()
    with open(log or os.devnull, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def first_response_lost(storage: S3Storage, operation: str = "PutObject") -> Iterator[list[int]]:
    """Within the block, the first ``operation`` response is thrown away after the server
    processed it, and botocore sends the request again, as when a connection drops
    before the response arrives. Yields the attempts botocore made of each request.

    The fault is at botocore's retry point (a ``needs-retry`` handler that asks for one
    more attempt), so the retry is the SDK's own: a second real request to the server.
    """
    attempts: list[int] = []

    def lose_once(attempts_so_far: int, response: Any = None, **_: Any) -> int | None:
        attempts.append(attempts_so_far)
        if len(attempts) == 1 and response is not None and response[0].status_code < 300:
            return 0  # retry now, as if the response had never arrived
        return None

    events = storage.client.meta.events
    event = f"needs-retry.s3.{operation}"
    handler = lambda attempts, **kw: lose_once(attempts, **kw)  # noqa: E731
    events.register_first(event, handler, unique_id="first-response-lost")
    try:
        yield attempts
    finally:
        events.unregister(event, unique_id="first-response-lost")


REPO = Path(__file__).resolve().parents[3]
S3RVER_BIN = Path(
    os.environ.get("STORAGES_TEST_S3RVER_BIN") or REPO / "node_modules" / ".bin" / "s3rver"
)
S3RVER_KEY = "S3RVER"  # s3rver's fixed built-in test credential (not a secret)


@dataclass
class S3Server:
    """A running S3 server on loopback, and (for our own moto) its request log."""

    endpoint: str
    access_key: str
    secret_key: str
    log: list[Request] | None = None
    conditional_writes: bool = True  # False: the server ignores If-None-Match
    buckets: list[str] = field(default_factory=list)
    _client: Any = field(default=None, repr=False)

    def client(self) -> Any:
        """A plain boto3 client of this server (one, shared: clients are thread-safe)."""
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def new_bucket(self) -> str:
        name = f"test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return name

    def options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """The storage OPTIONS reaching ``bucket`` on this server (as in a STORAGES setting)."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            # moto honours If-None-Match (declared, as a user declares R2 or MinIO); s3rver
            # ignores it: left unset, as on any endpoint other than AWS, saves confirm first.
            **({"conditional_writes": True} if self.conditional_writes else {}),
            **extra,
        }

    def storage(self, bucket: str, cls: type[S3Storage] | None = None, **options: Any) -> S3Storage:
        return (cls or S3Storage)(**self.options(bucket, **options))

    def mark(self) -> int:
        """Return the current position in the request log."""
        assert self.log is not None, "this server has no request log"
        return len(self.log)

    def requests(self, since: int) -> list[Request]:
        """Return the requests the server saw since ``since`` (from :meth:`mark`)."""
        assert self.log is not None, "this server has no request log"
        return self.log[since:]


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}?{self.query}"


class RequestLog:
    """WSGI middleware recording every request: request counts measured on the server."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.entries: list[Request] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        request = Request(
            environ["REQUEST_METHOD"],
            environ["PATH_INFO"],
            environ.get("QUERY_STRING", ""),
            headers,
        )
        with self.lock:
            self.entries.append(request)
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def moto_counted() -> Iterator[S3Server]:
    """moto's server mode over real HTTP on 127.0.0.1, with a server-side request log."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    log = RequestLog(DomainDispatcherApplication(create_backend_app))
    port = free_port()
    server = make_server("127.0.0.1", port, log, True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    wait_port(port)
    yield S3Server(
        f"http://127.0.0.1:{port}", secrets.token_hex(8), secrets.token_hex(16), log.entries
    )
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def moto(request: pytest.FixtureRequest) -> S3Server:
    """moto over HTTP: the one at STORAGES_TEST_S3_ENDPOINT if set, else our own."""
    endpoint = os.environ.get("STORAGES_TEST_S3_ENDPOINT")
    if endpoint:
        return S3Server(endpoint, secrets.token_hex(8), secrets.token_hex(16))
    server: S3Server = request.getfixturevalue("moto_counted")
    return server


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The npm s3rver (a second, independent S3 implementation) on 127.0.0.1."""
    if not S3RVER_BIN.exists() or shutil.which("node") is None:
        server_missing(
            f"s3rver is not installed ({S3RVER_BIN}); run `npm install` at the repo root"
        )
    port = free_port()
    directory = tmp_path_factory.mktemp("s3rver")
    proc = subprocess.Popen(
        [str(S3RVER_BIN), "-d", str(directory), "-a", "127.0.0.1", "-p", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        yield S3Server(f"http://127.0.0.1:{port}", S3RVER_KEY, S3RVER_KEY, conditional_writes=False)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(params=["moto", "s3rver"])
def server(request: pytest.FixtureRequest) -> S3Server:
    """Each S3 implementation in turn."""
    result: S3Server = request.getfixturevalue(request.param)
    return result


@pytest.fixture
def bucket(server: S3Server) -> str:
    return server.new_bucket()


@pytest.fixture
def make_storage(server: S3Server, bucket: str) -> Callable[..., S3Storage]:
    """Build a storage of the current server's fresh bucket with extra options."""

    def make(**options: Any) -> S3Storage:
        return server.storage(bucket, **options)

    return make


@pytest.fixture
def storage(make_storage: Callable[..., S3Storage]) -> S3Storage:
    return make_storage()


@pytest.fixture
def moto_bucket(moto: S3Server) -> str:
    return moto.new_bucket()


@pytest.fixture
def moto_storage(moto: S3Server, moto_bucket: str) -> S3Storage:
    return moto.storage(moto_bucket)


# -- URL signing: a frozen clock and an RSA key (test_urls.py, test_url_reuse.py) ----------


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Freeze our signing clock and botocore's at the same instant."""

    def freeze(epoch: float) -> None:
        moment = datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)
        monkeypatch.setattr(urls, "_now", lambda: epoch)
        if hasattr(botocore.auth, "get_current_datetime"):
            monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda **_: moment)
        else:  # older botocore (our floor, 1.36.0) reads datetime.datetime.utcnow()

            class Frozen(datetime):
                @classmethod
                def utcnow(cls) -> datetime:  # type: ignore[override]
                    return moment

            module = SimpleNamespace(**vars(botocore.auth.datetime))
            module.datetime = Frozen
            monkeypatch.setattr(botocore.auth, "datetime", module)
        monkeypatch.setattr(botocore.auth, "time", SimpleNamespace(time=lambda: epoch))

    freeze(FROZEN)
    return freeze


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
