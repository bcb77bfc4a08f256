"""Server-side request counting: proxies on loopback in front of the real servers.

The client under test never counts its own requests. It only tells the harness which phase
it is in (``GET /phase/<name>`` on the control port); every request a proxy forwards is
counted under the current phase, so both columns are counted by the same code.

- ``HttpCountingProxy``: an HTTP/1.1 keep-alive proxy (S3 in front of moto). Counts
  ``METHOD kind`` where kind is ``object``, ``bucket`` or ``bucket?<sub-resource>``.
- ``FtpCountingProxy``: relays the FTP control connection line by line and counts each
  command verb (data connections go straight to the server, as PASV tells the client).
- ``LogCounter``: for SFTP, whose traffic is encrypted, counts the requests sshd's
  ``internal-sftp`` writes to its log between two phase marks.
- ``Turns``: two client processes (one per side) run in lockstep, one at a time, the turn
  passing to the other side at each mark (``GET /turn/<side>/<phase>``); their requests
  are counted per side.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import socket
import socketserver
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHUNK = 256 * 1024
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "expect", "te"}


class Counts:
    """Requests per phase; the phase is switched by the client through the control port."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "idle"
        self.by_phase: dict[str, Counter[str]] = {}
        self.log_marks: list[tuple[str, dict[Path, int]]] = []
        self.log: LogCounter | None = None

    def switch(self, phase: str) -> None:
        with self.lock:
            self.phase = phase
            if self.log is not None:
                self.log_marks.append((phase, self.log.offset()))

    def add(self, what: str) -> None:
        with self.lock:
            self.by_phase.setdefault(self.phase, Counter())[what] += 1

    def reset(self) -> None:
        with self.lock:
            self.phase, self.by_phase, self.log_marks = "idle", {}, []
            if self.log is not None:
                self.log_marks.append(("idle", self.log.offset()))

    def snapshot(self, side: str | None = None) -> dict[str, dict[str, int]]:
        """Counts per phase, including the SFTP log lines seen since the last reset; with
        ``side``, that side's phases only (``Turns`` names a phase ``<side>\t<phase>``)."""
        with self.lock:
            result = {phase: dict(counter) for phase, counter in self.by_phase.items()}
            if self.log is not None:
                self.log.add_to(result, [*self.log_marks, ("end", self.log.offset())])
        if side is None:
            return result
        prefix = side + "\t"
        return {k.removeprefix(prefix): v for k, v in result.items() if k.startswith(prefix)}


class Turns:
    """Two client processes, one per side, measured in lockstep.

    Measured one after the other, two sides meet different moments of a shared machine
    (another process's burst, the CPU's clock): on 2 cores the same one-request operation
    moved 30-60% between runs, more than the gap being measured. Here both processes run at
    once but only the side holding the turn runs: a mark of a phase other than ``between``
    hands the turn to the other side and waits for it to come back, so the two sides'
    calls alternate one by one, each with the machine to itself, and a moment's load falls
    on both. The first turn waits until both processes have reached their first mark
    (neither measures while the other imports); a side that exits gives up the turn.
    """

    WAIT = 600.0  # seconds; a side that hangs does not hold the other for ever

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.cond = threading.Condition()
        self.start([])

    def start(self, order: list[str]) -> None:
        """A new pair of processes; ``order[0]`` gets the first turn."""
        with self.cond:
            self.order = list(order)
            self.arrived: set[str] = set()
            self.gone: set[str] = set()
            self.holder: str | None = None

    def mark(self, side: str, phase: str) -> None:
        with self.cond:
            if phase != "between":
                if self.holder == side:
                    self._pass_from(side)
                self.arrived.add(side)
                self._first_turn()
                self.cond.wait_for(lambda: self.holder == side, timeout=self.WAIT)
            self.counts.switch(f"{side}\t{phase}")

    def exited(self, side: str) -> None:
        """``side``'s process has ended: the turn stays with the other side."""
        with self.cond:
            self.gone.add(side)
            if self.holder == side:
                self._pass_from(side)
            self._first_turn()

    def _pass_from(self, side: str) -> None:
        others = [s for s in self.order if s != side and s not in self.gone]
        self.holder = others[0] if others else None
        self.cond.notify_all()

    def _first_turn(self) -> None:
        if self.holder is None and self.arrived | self.gone >= set(self.order):
            waiting = [s for s in self.order if s not in self.gone]
            self.holder = waiting[0] if waiting else None
            self.cond.notify_all()


def _kind(path: str) -> str:
    """``object``, ``bucket`` or ``bucket?<sub-resource>`` for an S3 path-style request."""
    split = urlsplit(path)
    parts = [p for p in split.path.split("/") if p]
    if parts[:1] == ["devstoreaccount1"]:  # Azurite: /account/container/blob?comp=...
        comp = [q.split("=")[1] for q in split.query.split("&") if q.startswith("comp=")]
        kind = "blob" if len(parts) >= 3 else "container"
        return kind + (f"?comp={comp[0]}" if comp else "")
    if "b" in parts[:4] and parts[:1] in (["storage"], ["upload"], ["download"]):
        # GCS's JSON API: .../b/<bucket>/o is a listing (or an upload), .../o/<name> an object
        tail = parts[parts.index("b") :]
        return "bucket" if len(tail) <= 3 and parts[0] == "storage" else "object"
    if len(parts) >= 2:
        return "object"
    keys = sorted(q.split("=")[0] for q in split.query.split("&") if q)
    sub = [k for k in keys if k in {"delete", "uploads", "list-type", "versions", "location"}]
    return "bucket" + (f"?{sub[0]}" if sub else "")


def start_control(counts: Counts, turns: Turns | None = None) -> ThreadingHTTPServer:
    """The control port: ``/phase/<name>``, ``/turn/<side>/<name>`` (``Turns``), ``/reset``
    and ``/counts`` (JSON)."""

    class Control(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"ok"
            if self.path.startswith("/phase/"):
                counts.switch(unquote(self.path[len("/phase/") :]))
            elif self.path.startswith("/turn/") and turns is not None:
                side, _, phase = self.path[len("/turn/") :].partition("/")
                turns.mark(side, unquote(phase))
            elif self.path == "/reset":
                counts.reset()
            elif self.path == "/counts":
                body = json.dumps(counts.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return _serve(ThreadingHTTPServer(("127.0.0.1", 0), Control))


def start_http_proxy(upstream_port: int, counts: Counts) -> ThreadingHTTPServer:
    """A keep-alive HTTP proxy to 127.0.0.1:``upstream_port`` counting every request."""

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else a body written after its headers waits ~40 ms
        upstream: http.client.HTTPConnection | None = None

        def _forward(self) -> None:
            counts.add(f"{self.command} {_kind(self.path)}")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            body = self._request_body()
            for attempt in (1, 2):  # the server may have closed an idle keep-alive connection
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection(
                        "127.0.0.1",
                        upstream_port,
                        blocksize=CHUNK,  # request bodies too
                    )
                try:
                    self.upstream.request(self.command, self.path, body=body, headers=headers)
                    response = self.upstream.getresponse()
                    break
                except (ConnectionError, http.client.HTTPException):
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            self._relay(response)

        def _request_body(self) -> bytes | _Limited | None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return _read_chunked(self.rfile)
            length = int(self.headers.get("Content-Length") or 0)
            if length > CHUNK:  # streamed through, never held whole
                if self.upstream is not None:  # a fresh connection: a stream is sent once
                    self.upstream.close()
                    self.upstream = None
                return _Limited(self.rfile, length)
            return self.rfile.read(length) if length else None

        def _relay(self, response: http.client.HTTPResponse) -> None:
            no_body = self.command == "HEAD" or response.status in (204, 304)
            length = response.getheader("Content-Length")
            data = b"" if no_body or length is not None else response.read()
            self.send_response_only(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_HEADERS and key.lower() != "content-length":
                    self.send_header(key, value)
            if length is not None:
                self.send_header("Content-Length", length)
            elif not no_body:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
            elif length is not None and not no_body:
                while chunk := response.read(CHUNK):
                    self.wfile.write(chunk)
            response.read()  # drain (HEAD), so the upstream connection can be reused

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: object) -> None:
            pass

    return _serve(ThreadingHTTPServer(("127.0.0.1", 0), Proxy))


class _Limited:
    """The next ``length`` bytes of ``stream``, as a file http.client can send."""

    def __init__(self, stream, length: int) -> None:  # type: ignore[no-untyped-def]
        self.stream, self.left = stream, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data


def _read_chunked(rfile) -> bytes:  # type: ignore[no-untyped-def]
    parts = []
    while size := int(rfile.readline().split(b";")[0], 16):
        parts.append(rfile.read(size))
        rfile.readline()
    while rfile.readline() not in (b"\r\n", b"\n", b""):
        pass
    return b"".join(parts)


def start_ftp_proxy(upstream_port: int, counts: Counts) -> socketserver.ThreadingTCPServer:
    """Relay FTP control connections to 127.0.0.1:``upstream_port``, counting commands."""

    class Relay(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            for sock in (upstream, self.request):  # no Nagle delay on relayed short lines
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            down = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            down.start()
            with self.request.makefile("rb") as lines:
                for line in lines:
                    verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
                    counts.add(verb)
                    upstream.sendall(line)
            upstream.shutdown(socket.SHUT_WR)
            down.join(5)
            upstream.close()

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay)
    server.daemon_threads = True
    return _serve(server)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class LogCounter:
    """Counts SFTP requests in sftp-server's logs (``-l DEBUG3``: ``request N: <verb>``).

    Each SSH session's sftp-server writes a log of its own (``sftp-<pid>.log`` in
    ``folder``), whose owner is the side whose root folder its paths name (``roots``). A
    line counts in the phase its own side was in when the line was written: with two sides
    in lockstep, a request one side sent without waiting for its answer (an SFTP CLOSE)
    may be logged after the other side has taken its turn.
    """

    REQUEST = re.compile(rb"debug\d: request \d+: (?!sent )(\w+)")

    def __init__(self, folder: Path, roots: dict[str, str]) -> None:
        self.folder, self.roots = folder, roots

    def offset(self) -> dict[Path, int]:
        """The size of every session's log now."""
        return {path: path.stat().st_size for path in self.folder.glob("sftp-*.log")}

    def add_to(
        self, result: dict[str, dict[str, int]], marks: list[tuple[str, dict[Path, int]]]
    ) -> None:
        for path in self.folder.glob("sftp-*.log"):
            data = path.read_bytes()
            owner = next((s for s, root in self.roots.items() if root.encode() in data), None)
            own = [
                (phase, sizes.get(path, 0))
                for phase, sizes in marks
                if "\t" not in phase or owner is None or phase.startswith(owner + "\t")
            ]
            for (phase, start), (_, end) in itertools.pairwise(own):
                for match in self.REQUEST.finditer(data[start:end]):
                    bucket = result.setdefault(phase, {})
                    verb = match.group(1).decode()
                    bucket[verb] = bucket.get(verb, 0) + 1


def _serve(server):  # type: ignore[no-untyped-def]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
