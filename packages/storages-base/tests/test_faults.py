"""The fault-injecting proxy, against a local echo server and a local HTTP server."""

from __future__ import annotations

import errno
import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storages_base.testing.faults import (
    HTTP_BODY,
    FaultProxy,
    Flip,
    Latency,
    Reset,
    Stall,
    Truncate,
)

BODY = bytes(range(256)) * 400  # 102,400 bytes


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def echo(proxy: FaultProxy, data: bytes, timeout: float = 5) -> bytes:
    """Send ``data`` through the proxy to the echo server, half-close, read all back."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout) as sock:
        sock.sendall(data)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:  # an RST that came before the half-close: the socket is gone
            if exc.errno != errno.ENOTCONN:
                raise
            raise ConnectionResetError(errno.ECONNRESET, "reset before the half-close") from exc
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def get(proxy: FaultProxy, timeout: float = 5) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read()
    finally:
        connection.close()


def test_without_faults_bytes_pass_unchanged_and_are_counted(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        assert echo(proxy, BODY) == BODY
        assert echo(proxy, b"x") == b"x"
    assert (proxy.stats.connections, proxy.stats.faults) == (2, 0)
    assert proxy.stats.bytes_up == proxy.stats.bytes_down == len(BODY) + 1


def test_latency_delays_each_turn_of_the_exchange(http_port: int) -> None:
    with FaultProxy(http_port) as proxy:
        proxy.inject(Latency(seconds=0.2))
        started = time.monotonic()
        assert get(proxy) == BODY
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2  # one delay for the request, one for the response
    assert proxy.stats.fired == {"latency": 1}


def test_a_reset_after_n_bytes_from_the_server_cuts_the_response(http_port: int) -> None:
    with FaultProxy(http_port) as proxy:
        proxy.inject(Reset(at=1000, after=HTTP_BODY))
        with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
            get(proxy)
        assert get(proxy) == BODY  # the next connection is clean
    assert proxy.stats.fired == {"reset": 1}


def test_a_reset_after_n_bytes_from_the_client_sends_rst_to_the_client(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Reset(at=10, direction="up"))
        with pytest.raises(ConnectionResetError):
            echo(proxy, BODY)
    assert proxy.stats.bytes_up == 10
    assert proxy.stats.fired == {"reset": 1}


def test_a_truncated_response_ends_cleanly_after_n_bytes(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Truncate(at=5000))
        assert echo(proxy, BODY) == BODY[:5000]
    assert proxy.stats.fired == {"truncate": 1}


def test_a_stalled_peer_keeps_the_socket_open_and_says_nothing(http_port: int) -> None:
    with FaultProxy(http_port) as proxy:
        proxy.inject(Stall(at=0))
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            get(proxy, timeout=0.3)
        assert time.monotonic() - started < 2
    assert proxy.stats.bytes_down == 0
    assert proxy.stats.fired == {"stall": 1}


def test_a_flipped_byte_changes_exactly_that_byte(echo_port: int, http_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Flip(at=70_000, direction="up", mask=0xFF))
        received = echo(proxy, BODY)
    expected = bytearray(BODY)
    expected[70_000] ^= 0xFF
    assert received == expected
    with FaultProxy(http_port) as proxy:
        proxy.inject(Flip(at=3, after=HTTP_BODY))  # the fourth byte of the response body
        body = get(proxy)
    expected = bytearray(BODY)
    expected[3] ^= 1
    assert body == expected
    assert proxy.stats.fired == {"flip": 1}


def test_faults_apply_to_the_next_n_connections_after_skipped_ones(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Truncate(at=1), connections=2, skip=1)
        results = [echo(proxy, b"hello") for _ in range(4)]
    assert results == [b"hello", b"h", b"h", b"hello"]
    assert proxy.stats.fired == {"truncate": 2}
    assert proxy.stats.connections == 4


def test_every_connection_until_cleared(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Truncate(at=2), connections=None)
        assert [echo(proxy, b"hello") for _ in range(3)] == [b"he"] * 3
        proxy.clear()
        assert echo(proxy, b"hello") == b"hello"


def test_a_dead_upstream_resets_the_client() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with FaultProxy(port) as proxy, pytest.raises(ConnectionError):
        echo(proxy, b"hello")


def test_close_ends_stalled_connections(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Stall(at=0, direction="up"))
        sock = socket.create_connection(("127.0.0.1", proxy.port), 5)
        sock.sendall(b"hello")
    with sock:
        assert sock.recv(10) == b""  # the proxy closed it


def test_only_loopback_upstreams() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(80, "192.0.2.1")


def test_times_fires_once_on_whichever_connection_gets_there(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.inject(Truncate(at=100), connections=None, times=1)
        results = [echo(proxy, data) for data in (b"short", BODY, BODY, b"again")]
    assert results == [b"short", BODY[:100], BODY, b"again"]
    assert proxy.stats.fired == {"truncate": 1}
