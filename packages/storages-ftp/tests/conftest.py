from storages_base.testing import setup_django

setup_django()

import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

import pytest  # noqa: E402

from storages_ftp import FTPStorage  # noqa: E402

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


@dataclass
class FTPServer:
    """A pyftpdlib server on 127.0.0.1 and what a test needs to reach it."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    home: Path | None  # None for a server given by the environment
    ca_file: str | None = None
    server: Any = None

    def location(
        self,
        path: str = "/",
        scheme: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        return (
            f"{scheme or self.scheme}://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{self.host}:{self.port}{path}"
        )


def start_pyftpdlib(
    home: Path,
    *,
    tls_cert: str | None = None,
    mlsd: bool = True,
    users: dict[str, tuple[str, str]] | None = None,
    **handler: Any,
) -> Any:
    """Start an in-process threaded pyftpdlib server; users maps name -> (password, perm)."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import ThreadedFTPServer

    authorizer = DummyAuthorizer()
    for name, (password, perm) in (users or {}).items():
        authorizer.add_user(name, password, str(home), perm=perm)
    attrs: dict[str, Any] = {"authorizer": authorizer, "passive_ports": None, **handler}
    base: type = FTPHandler
    if tls_cert:
        base = TLS_FTPHandler
        attrs.update(certfile=tls_cert, tls_control_required=True, tls_data_required=True)
    if not mlsd:  # a server without RFC 3659: listings come from LIST
        attrs["proto_cmds"] = {
            k: v for k, v in base.proto_cmds.items() if k not in ("MLSD", "MLST")
        }
    handler = type("Handler", (base,), attrs)
    # An IOLoop of its own: pyftpdlib's default is a process-wide singleton, which
    # makes one server's close_all() close every other server's sockets.
    server = ThreadedFTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    # Likewise its exit flag and lock are class attributes: one server's close_all()
    # would end the sessions of all the others. Each server gets its own.
    server._exit = threading.Event()
    server._lock = threading.Lock()
    threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def start_server() -> Callable[..., Any]:
    """``start_pyftpdlib`` for tests that need a server of their own (call close_all())."""
    return start_pyftpdlib


PASSWORD = secrets.token_urlsafe(9) + "@:/#?%"  # characters that must be quoted in the URL


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FTPServer]:
    """Plain FTP; FTP_TEST_LOCATION=ftp://user:pass@127.0.0.1:port reuses a running one."""
    given = os.environ.get("FTP_TEST_LOCATION")
    if given:
        from storages_ftp.client import parse_location

        loc = parse_location(given)
        yield FTPServer("ftp", loc.host, loc.port, loc.user, loc.password, None)
        return
    home = tmp_path_factory.mktemp("ftphome")
    server = start_pyftpdlib(
        home, users={"user": (PASSWORD, "elradfmwMT"), "reader": (PASSWORD, "elr")}
    )
    yield FTPServer("ftp", "127.0.0.1", server.address[1], "user", PASSWORD, home, server=server)
    server.close_all()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, ca_file = folder / "server.pem", folder / "ca.pem"
    certfile.write_bytes(
        cert.private_key_pem.bytes() + b"".join(blob.bytes() for blob in cert.cert_chain_pems)
    )
    ca.cert_pem.write_to_path(str(ca_file))
    other = folder / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    return {"certfile": str(certfile), "ca_file": str(ca_file), "other_ca": str(other)}


@pytest.fixture(scope="session")
def ftps_server(
    tmp_path_factory: pytest.TempPathFactory, tls_files: dict[str, str]
) -> Iterator[FTPServer]:
    """FTPS (explicit TLS, TLS required on control and data) with a trustme certificate."""
    home = tmp_path_factory.mktemp("ftpshome")
    server = start_pyftpdlib(
        home, tls_cert=tls_files["certfile"], users={"user": (PASSWORD, "elradfmwMT")}
    )
    yield FTPServer(
        "ftps",
        "127.0.0.1",
        server.address[1],
        "user",
        PASSWORD,
        home,
        ca_file=tls_files["ca_file"],
        server=server,
    )
    server.close_all()


@pytest.fixture(scope="session")
def list_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FTPServer]:
    """A server without MLSD/MLST, so the storage falls back to LIST, SIZE and MDTM."""
    home = tmp_path_factory.mktemp("listhome")
    server = start_pyftpdlib(home, mlsd=False, users={"user": (PASSWORD, "elradfmwMT")})
    yield FTPServer("ftp", "127.0.0.1", server.address[1], "user", PASSWORD, home, server=server)
    server.close_all()


def _factory(server: FTPServer, request: pytest.FixtureRequest) -> Callable[..., FTPStorage]:
    made: list[FTPStorage] = []

    def make(**options: Any) -> FTPStorage:
        root = options.pop("root", "/")
        options.setdefault("location", server.location(root))
        options.setdefault("encoding", "utf-8")
        options.setdefault("base_url", "https://files.example/media/")
        if server.ca_file:
            options.setdefault("ca_file", server.ca_file)
        storage = FTPStorage(**options)
        made.append(storage)
        return storage

    request.addfinalizer(lambda: [s.close() for s in made])
    return make


@pytest.fixture
def root(request: pytest.FixtureRequest) -> str:
    """A fresh folder per test, so tests never see each other's files."""
    return "/t-" + secrets.token_hex(4)


@pytest.fixture
def make_ftp(
    ftp_server: FTPServer, request: pytest.FixtureRequest, root: str
) -> Callable[..., FTPStorage]:
    made = _factory(ftp_server, request)

    def make(**options: Any) -> FTPStorage:
        if ftp_server.home is not None:
            (ftp_server.home / root.strip("/")).mkdir(exist_ok=True)
        options.setdefault("root", root)
        return made(**options)

    return make


@pytest.fixture
def folder(ftp_server: FTPServer, root: str) -> Path:
    """The server-side folder of ``make_ftp`` storages (to check what the server holds)."""
    if ftp_server.home is None:
        pytest.skip("the server's files are not visible (FTP_TEST_LOCATION is set)")
    path = ftp_server.home / root.strip("/")
    path.mkdir(exist_ok=True)
    return path
