"""A fault-injecting TCP proxy on loopback, for reliability tests against real local servers.

Put :class:`FaultProxy` between a storage backend and its server (point the backend's
endpoint at ``proxy.port``) and arm faults for the next connections::

    with FaultProxy(server_port) as proxy:
        proxy.inject(Reset(at=100_000, direction="up"), connections=1)
        storage = S3Storage(endpoint_url=proxy.url, ...)
        with pytest.raises(...):
            storage.save("big.bin", content)
        assert proxy.stats.fired["reset"] == 1

A fault is bound to a connection when the proxy accepts it, so arm faults before the client
opens the connections they are meant for (a fresh client, or after the pool dropped its
connections). The faults: :class:`Latency` (a delay each time the stream turns around),
:class:`Reset` (RST to both peers), :class:`Truncate` (a clean close), :class:`Stall`
(stop forwarding, keep both sockets open) and :class:`Flip` (XOR one byte). Byte positions
count in one direction of the stream, from its start or from the end of the first ``after``
marker (``after=b"\\r\\n\\r\\n"`` counts in the first HTTP body). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import collections
import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from django.core.files.storage import Storage

__all__ = [
    "Direction",
    "Fault",
    "FaultProxy",
    "Flip",
    "Latency",
    "ProxyStats",
    "Reset",
    "Stall",
    "Truncate",
    "workload",
]

# "up": client -> upstream server (requests, uploads); "down": server -> client (responses).
Direction = Literal["up", "down"]
HTTP_BODY = b"\r\n\r\n"  # an ``after`` marker: positions count from the first body byte
_CHUNK = 65536


@dataclass(frozen=True, kw_only=True)
class Fault:
    """Something done to a connection's stream once ``at`` bytes went by in ``direction``."""

    kind: ClassVar[str] = "fault"
    direction: Direction = "down"
    at: int = 0
    after: bytes = b""


@dataclass(frozen=True, kw_only=True)
class Latency(Fault):
    """Wait ``seconds`` before forwarding each burst (when the stream turns around to here).

    A delay per turn, not per chunk: a request/response exchange gains one delay each way,
    a large upload is not throttled. ``direction`` and ``at`` are ignored: both ways.
    """

    kind: ClassVar[str] = "latency"
    seconds: float = 0.05


@dataclass(frozen=True, kw_only=True)
class Reset(Fault):
    """After ``at`` bytes in ``direction``, reset both sockets (RST, SO_LINGER 0)."""

    kind: ClassVar[str] = "reset"


@dataclass(frozen=True, kw_only=True)
class Truncate(Fault):
    """After ``at`` bytes in ``direction`` (default: from the server), close both cleanly."""

    kind: ClassVar[str] = "truncate"


@dataclass(frozen=True, kw_only=True)
class Stall(Fault):
    """After ``at`` bytes in ``direction``, forward nothing more either way.

    Both sockets stay open (what arrives is read and dropped) until a peer closes its side
    or the proxy closes: the client sees a peer that never answers.
    """

    kind: ClassVar[str] = "stall"


@dataclass(frozen=True, kw_only=True)
class Flip(Fault):
    """XOR the byte at position ``at`` of ``direction`` with ``mask``."""

    kind: ClassVar[str] = "flip"
    mask: int = 0x01


@dataclass
class ProxyStats:
    """What went through the proxy: connections, bytes each way, faults that took effect."""

    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    fired: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def faults(self) -> int:
        """The number of faults that took effect (a latency counts once per connection)."""
        return sum(self.fired.values())


class _Position:
    """Where a fault's byte position falls in the chunks of one direction."""

    def __init__(self, fault: Fault, arming: _Arming) -> None:
        self.fault = fault
        self.arming = arming
        self.marker = fault.after
        self.origin: int | None = None if self.marker else 0
        self.tail = b""

    def locate(self, start: int, chunk: bytes) -> int | None:
        """Return the fault's offset in ``chunk`` (which starts at ``start``), once known."""
        if self.origin is None:
            buffer = self.tail + chunk
            found = buffer.find(self.marker)
            if found < 0:
                self.tail = buffer[-(len(self.marker) - 1) :] if len(self.marker) > 1 else b""
                return None
            self.origin = start - len(self.tail) + found + len(self.marker)
        return self.origin + self.fault.at - start


@dataclass(eq=False)
class _Arming:
    faults: tuple[Fault, ...]
    skip: int
    remaining: int | None  # connections still to bind; None: every one until cleared
    times: int | None = None  # fires still allowed; None: no limit


class _Connection:
    """One client connection and its upstream, pumped by one thread per direction."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: socket.socket,
        upstream: socket.socket,
        faults: list[tuple[Fault, _Arming]],
    ) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.faults = faults
        self.lock = threading.Lock()
        self.ended = threading.Event()  # reset, truncated, or the proxy closed
        self.stalled = threading.Event()
        self.last_sent: dict[Direction, float] = {"up": 0.0, "down": 0.0}
        self.latency_fired = False
        self.latency_allowed = False
        self.open_pumps = 2

    def start(self) -> None:
        for direction in ("up", "down"):
            threading.Thread(
                target=self.pump, args=(direction,), daemon=True, name=f"fault-proxy-{direction}"
            ).start()

    def pump(self, direction: Direction) -> None:
        source, target = (
            (self.client, self.upstream) if direction == "up" else (self.upstream, self.client)
        )
        pending = [
            _Position(f, a)
            for f, a in self.faults
            if f.direction == direction and not isinstance(f, Latency)
        ]
        latency = max((f.seconds for f, _ in self.faults if isinstance(f, Latency)), default=0.0)
        position = 0
        try:
            while not self.ended.is_set():
                if not _readable(source, self.ended):
                    continue
                data = bytearray(source.recv(_CHUNK))
                if not data:
                    if self.stalled.is_set():
                        if direction == "up":  # the client gave up on the stalled connection
                            self.end(reset=False)
                        break  # the server's close is stalled too
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    break
                if self.stalled.is_set():
                    continue  # read and drop: nothing reaches the other side
                if latency:
                    self.delay(direction, latency)
                cut, action = self.apply(pending, position, data)
                target.sendall(data[:cut])
                self.proxy.count(direction, cut)
                position += len(data)
                self.last_sent[direction] = time.monotonic()
                if action is not None:
                    self.fire(action.fault)
                    if not isinstance(action, Stall):
                        break
        except OSError:
            self.end(reset=True)
        finally:
            with self.lock:
                self.open_pumps -= 1
                last = self.open_pumps == 0
            if last:
                self.end(reset=False)

    def delay(self, direction: Direction, seconds: float) -> None:
        other: Direction = "down" if direction == "up" else "up"
        turned = self.last_sent[direction] <= self.last_sent[other]
        if not turned:
            return
        with self.lock:
            first, self.latency_fired = not self.latency_fired, True
        if first:  # a latency counts once per connection (and within ``times``)
            arming = next(a for f, a in self.faults if isinstance(f, Latency))
            self.latency_allowed = self.proxy.claim(arming, "latency")
        if self.latency_allowed:
            time.sleep(seconds)

    def apply(
        self, pending: list[_Position], start: int, data: bytearray
    ) -> tuple[int, _Position | None]:
        """Flip bytes in ``data``; return how much of it to send and the fault that cuts it."""
        chunk = bytes(data)
        located = [(place, place.locate(start, chunk)) for place in pending]
        found = [(offset, place) for place, offset in located if offset is not None]
        cut, action = len(data), None
        for offset, place in sorted(found, key=lambda item: item[0]):
            if isinstance(place.fault, Flip) or offset > len(data):
                continue
            pending.remove(place)
            if self.proxy.claim(place.arming, place.fault.kind):
                cut, action = max(offset, 0), place
                break
        for offset, place in found:
            if isinstance(place.fault, Flip) and offset < cut:
                pending.remove(place)
                if self.proxy.claim(place.arming, place.fault.kind):
                    data[max(offset, 0)] ^= place.fault.mask
        return cut, action

    def fire(self, fault: Fault) -> None:
        if isinstance(fault, Stall):
            self.stalled.set()
        else:
            self.end(reset=isinstance(fault, Reset))

    def end(self, reset: bool) -> None:
        """Close both sockets: with RST (SO_LINGER 0) or a clean FIN."""
        self.ended.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self.proxy.forget(self)


def _readable(sock: socket.socket, ended: threading.Event) -> bool:
    """Wait briefly for ``sock`` to be readable, so a pump notices the connection ended."""
    try:
        ready, _, _ = select.select([sock], [], [], 0.1)
    except (OSError, ValueError):
        ended.set()
        return False
    return bool(ready)


class FaultProxy:
    """A threaded TCP proxy on 127.0.0.1 in front of ``127.0.0.1:upstream_port``.

    Faults armed with :meth:`inject` apply to the connections accepted next; ``stats``
    counts connections, bytes each way and the faults that took effect.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        if upstream_host not in ("127.0.0.1", "localhost"):
            raise ValueError("the fault proxy only forwards to loopback")
        self.upstream = (upstream_host, upstream_port)
        self.stats = ProxyStats()
        self._lock = threading.Lock()
        self._armings: list[_Arming] = []
        self._open: set[_Connection] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def port(self) -> int:
        """The port the proxy listens on (after :meth:`start`)."""
        assert self._listener is not None, "the proxy is not started"
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the endpoint to give an HTTP client."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on a free loopback port and accept connections in a thread."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fault-proxy")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, end every open connection (stalled ones too)."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._listener is not None:
            self._listener.close()
        self.drop()

    def drop(self) -> None:
        """Close every open connection cleanly, so the next requests open new ones."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            connection.end(reset=False)

    def inject(
        self,
        *faults: Fault,
        connections: int | None = 1,
        skip: int = 0,
        times: int | None = None,
    ) -> None:
        """Arm ``faults`` for the ``connections`` new connections (None: all) after ``skip``.

        ``times`` caps how often they fire in all, on whichever of those connections
        reaches them first (``connections=None, times=1``: exactly once, wherever the
        stream gets to ``at``); the arming is dropped once spent.
        """
        with self._lock:
            self._armings.append(_Arming(faults, skip, connections, times))

    def clear(self) -> None:
        """Disarm every fault not yet bound to a connection."""
        with self._lock:
            self._armings.clear()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def count(self, direction: Direction, size: int) -> None:
        with self._lock:
            if direction == "up":
                self.stats.bytes_up += size
            else:
                self.stats.bytes_down += size

    def claim(self, arming: _Arming, kind: str) -> bool:
        """Count a fault about to take effect, unless its arming's ``times`` are spent."""
        with self._lock:
            if arming.times is not None:
                if arming.times <= 0:
                    return False
                arming.times -= 1
                if arming.times == 0 and arming in self._armings:
                    self._armings.remove(arming)
            self.stats.fired[kind] += 1
            return True

    def forget(self, connection: _Connection) -> None:
        with self._lock:
            self._open.discard(connection)

    def _faults_for_new_connection(self) -> list[tuple[Fault, _Arming]]:
        faults: list[tuple[Fault, _Arming]] = []
        with self._lock:
            self.stats.connections += 1
            for arming in self._armings:
                if arming.skip:
                    arming.skip -= 1
                    continue
                faults.extend((fault, arming) for fault in arming.faults)
                if arming.remaining is not None:
                    arming.remaining -= 1
            self._armings = [a for a in self._armings if a.remaining != 0]
        return faults

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closing.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, client, upstream, self._faults_for_new_connection())
            with self._lock:
                self._open.add(connection)
            connection.start()


def workload(storage: Storage, data: bytes) -> int:
    """A session's life through a proxy: save, stat, list, read, delete.

    Returns the operations run, the count a fault rate is measured against.
    """
    from django.core.files.base import ContentFile

    storage.save("doc.bin", ContentFile(data))
    assert storage.exists("doc.bin")
    assert storage.size("doc.bin") == len(data)
    assert storage.listdir("") == ([], ["doc.bin"])
    with storage.open("doc.bin") as file:
        assert file.read() == data
    storage.delete("doc.bin")
    assert not storage.exists("doc.bin")
    return 7
