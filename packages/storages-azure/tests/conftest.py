from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

import http.client  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from storages_azure import AzureStorage  # noqa: E402
from storages_azure.client import EMULATOR_KEY  # noqa: E402
from storages_base.testing.kills import ServerProcess  # noqa: E402
from storages_base.testing.servers import (  # noqa: E402
    azurite_command,
    free_port,
    server_missing,
    wait_port,
)

REPO = Path(__file__).resolve().parents[3]
AZURITE_BIN = Path(
    os.environ.get("STORAGES_TEST_AZURITE_BIN") or REPO / "node_modules" / ".bin" / "azurite-blob"
)
ACCOUNT = "devstoreaccount1"
#: A second account of our own (AZURITE_ACCOUNTS), to show nothing depends on the default.
OTHER_ACCOUNT = "otheraccount"
OTHER_KEY = "b3RoZXJrZXlmb3J0ZXN0c29ubHlvdGhlcmtleWZvcnRlc3Rzb25seQ=="


@dataclass(frozen=True)
class Request:
    """One request as it reached the server."""

    method: str
    path: str
    headers: dict[str, str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Azurite:
    """A running Azurite blob service on loopback."""

    host: str  # "127.0.0.1:port"
    containers: list[str] = field(default_factory=list)
    log: list[Request] | None = None  # requests seen, when this is the counting proxy
    proxy: Any = None  # the proxy's handler class (its fault switches)
    _service: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={EMULATOR_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    def service(self) -> Any:
        """A plain SDK client of this server, for test set-up and checks."""
        if self._service is None:
            from azure.storage.blob import BlobServiceClient

            self._service = BlobServiceClient.from_connection_string(
                self.connection_string, retry_total=0
            )
        return self._service

    def new_container(self, public: bool = False) -> str:
        name = f"test-{secrets.token_hex(6)}"
        self.service().create_container(name, public_access="blob" if public else None)
        self.containers.append(name)
        return name

    def options(self, container: str, **extra: Any) -> dict[str, Any]:
        """The OPTIONS of a storage of ``container`` (emulated mode, the dev account)."""
        return {
            "azure_container": container,
            "emulated_mode": True,
            "azure_ssl": False,
            "custom_domain": self.host,
            **extra,
        }

    def storage(self, container: str, **options: Any) -> AzureStorage:
        return AzureStorage(**self.options(container, **options))

    def corrupt_responses(self, *plan: bool) -> None:
        """The proxy flips one byte in the body of the next GETs of a blob, as ``plan``
        says for each in turn (True: corrupted), then passes the rest as they are."""
        assert self.proxy is not None, "only the counting proxy corrupts bytes"
        self.proxy.corrupt[:] = list(plan)

    def corrupt_uploads(self, count: int) -> None:
        """The proxy flips one byte in the body of the next ``count`` PUTs with a body."""
        assert self.proxy is not None, "only the counting proxy corrupts bytes"
        self.proxy.corrupt_puts[:] = [True] * count

    def lose_next_response(self, method: str) -> None:
        """The proxy forwards the next ``method`` request, then drops its response."""
        assert self.proxy is not None, "only the counting proxy loses responses"
        self.proxy.lose.append(method)

    def mark(self) -> int:
        assert self.log is not None, "only the counting proxy logs requests"
        return len(self.log)

    def requests(self, since: int) -> list[Request]:
        assert self.log is not None, "only the counting proxy logs requests"
        return self.log[since:]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service (npm) on 127.0.0.1, with the dev account and one of ours;
    STORAGES_TEST_AZURITE_HOST reuses a running one instead."""
    reuse = os.environ.get("STORAGES_TEST_AZURITE_HOST")
    if reuse:
        yield Azurite(reuse)
        return
    if not AZURITE_BIN.exists() or shutil.which("node") is None:
        server_missing(f"Azurite is not installed ({AZURITE_BIN}); run `npm ci` at the repo root")
    env = {"AZURITE_ACCOUNTS": f"{ACCOUNT}:{EMULATOR_KEY};{OTHER_ACCOUNT}:{OTHER_KEY}"}
    command = azurite_command(AZURITE_BIN, tmp_path_factory.mktemp("azurite"))
    # ServerProcess waits on the port itself, not through the SDK (which retries for ~90 s)
    with ServerProcess(command, env=env) as server:
        yield Azurite(f"127.0.0.1:{server.port}")


class _Proxy(BaseHTTPRequestHandler):
    """Forwards each request to Azurite and records it: request counts seen on the wire."""

    protocol_version = "HTTP/1.1"
    upstream: str = ""
    log: list[Request] = []
    lose: list[str] = []  # methods whose next response is dropped after forwarding
    corrupt: list[bool] = []  # per coming GET of a blob: flip a byte of its body
    corrupt_puts: list[bool] = []  # per coming PUT with a body: flip a byte of it
    in_flight = 0  # requests being forwarded now, and the most seen at once
    peak = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        cls = type(self)
        with self.lock:
            if body and self.command == "PUT" and self.corrupt_puts and self.corrupt_puts.pop(0):
                body = _flip(body)
            self.log.append(Request(self.command, self.path, dict(headers)))
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        try:
            self._send_upstream(body, headers)
        finally:
            with self.lock:
                cls.in_flight -= 1

    def _send_upstream(self, body: bytes | None, headers: dict[str, str]) -> None:
        host, port = self.upstream.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            with self.lock:
                blob_get = self.command == "GET" and "comp=" not in self.path and data
                if blob_get and self.corrupt and self.corrupt.pop(0):
                    data = _flip(data)
                lost = self.command in self.lose
                if lost:
                    self.lose.remove(self.command)
            if lost:  # stored upstream; the client never hears of it
                self.close_connection = True
                return
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            # A HEAD answer tells the length of what a GET would send.
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            connection.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = do_OPTIONS = _forward


def _flip(data: bytes) -> bytes:
    """``data`` with the bits of its middle byte flipped: same length, wrong content."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.fixture(scope="session")
def counted(azurite: Azurite) -> Iterator[Azurite]:
    """Azurite behind a loopback proxy that logs every request (the counts of the README)."""
    handler = type(
        "Proxy",
        (_Proxy,),
        {"upstream": azurite.host, "log": [], "lose": [], "corrupt": [], "corrupt_puts": []},
    )
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    wait_port(server.server_address[1])
    yield Azurite(host, log=handler.log, proxy=handler, _service=azurite.service())
    server.shutdown()
    thread.join()


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture
def make_storage(azurite: Azurite, container: str) -> Callable[..., AzureStorage]:
    def make(**options: Any) -> AzureStorage:
        return azurite.storage(container, **options)

    return make


@pytest.fixture
def storage(make_storage: Callable[..., AzureStorage]) -> AzureStorage:
    return make_storage(expiration_secs=600)
