"""A local Dropbox API v2 server for tests and demos, spoken to by the real ``dropbox`` SDK.

Dropbox has no emulator, so this is one: HTTPS on 127.0.0.1 with a generated CA (the
SDK always builds ``https://`` URLs), the routes a storage backend uses, in Dropbox's
documented wire formats (``Dropbox-API-Arg`` / ``Dropbox-API-Result`` headers, 409
errors with ``error_summary`` and a tagged ``error``, 401 ``expired_access_token``,
429 with ``Retry-After``), files kept on disk, and switches for faults. Modelled:

* ``files/upload`` (modes add / overwrite / update, autorename off: a conflict is
  ``path/conflict/file``), ``upload_session/start``, ``append_v2`` and ``finish``
  (offsets checked: ``incorrect_offset`` with ``correct_offset``), ``content_hash``
  checked on every upload call (``content_hash_mismatch``);
* ``files/download`` (``Range``), ``get_metadata``, ``list_folder`` and ``continue``
  (``page_size`` entries a page), ``delete_v2``, ``get_temporary_link`` (served here,
  4 hours), ``get_temporary_upload_link``, and ``/oauth2/token`` (refresh tokens).

Paths are case-insensitive and case-preserving, as on Dropbox; parent folders are
created by an upload and remain when emptied. Not modelled: shared folders, path
roots, revisions history, team spaces, file locks, the 2^41-byte limits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = ["BLOCK_SIZE", "DropboxServer", "Fault", "content_hash"]

#: Dropbox's content hash works on blocks of 4 MiB.
BLOCK_SIZE = 4 * 1024 * 1024
#: Temporary links live four hours.
LINK_LIFE = 4 * 3600


def content_hash(data: bytes) -> str:
    """Dropbox's content hash: SHA-256 of the concatenated SHA-256s of 4 MiB blocks."""
    blocks = b"".join(
        hashlib.sha256(data[i : i + BLOCK_SIZE]).digest() for i in range(0, len(data), BLOCK_SIZE)
    )
    return hashlib.sha256(blocks).hexdigest()


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(BLOCK_SIZE):
            digest.update(hashlib.sha256(block).digest())
    return digest.hexdigest()


class ApiFailure(Exception):
    """A Dropbox error answer: status, body (JSON) and headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def route_error(*tags: str, **extra: Any) -> ApiFailure:
    """A 409 route error: ``route_error("path", "not_found")`` nests the tags."""
    error: Any = {".tag": tags[-1], **extra}
    for tag in reversed(tags[:-1]):
        error = {".tag": tag, tag: error}
    summary = "/".join(tags) + "/..."
    return ApiFailure(409, {"error_summary": summary, "error": error})


def _auth_error(tag: str, **extra: Any) -> ApiFailure:
    body = {"error_summary": f"{tag}/...", "error": {".tag": tag, **extra}}
    return ApiFailure(401, body)


@dataclass
class Entry:
    """A file or folder of the tree (keyed by its lower-case path)."""

    display: str
    folder: bool
    id: str = field(default_factory=lambda: "id:" + secrets.token_urlsafe(12))
    rev: str = ""
    size: int = 0
    modified: str = ""
    hash: str = ""
    blob: Path | None = None

    def metadata(self) -> dict[str, Any]:
        name = self.display.rsplit("/", 1)[-1]
        common = {"name": name, "id": self.id, "path_lower": self.display.lower()}
        common["path_display"] = self.display
        if self.folder:
            return {".tag": "folder", **common}
        return {
            ".tag": "file",
            **common,
            "client_modified": self.modified,
            "server_modified": self.modified,
            "rev": self.rev,
            "size": self.size,
            "is_downloadable": True,
            "content_hash": self.hash,
        }


@dataclass
class Fault:
    """What the next matching request gets instead of its answer."""

    route: str  # "files/upload", ... or "*"
    status: int = 500  # 401 expired token, 429, 5xx; 0 = drop the connection mid-body
    retry_after: int = 1
    times: int = 1
    after: bool = False  # the call is carried out, then its answer replaced (a lost response)


class DropboxServer:
    """The server: ``start()``, point a storage at ``host`` trusting ``ca_path``, ``stop()``.

    ``calls`` counts requests per route; ``fail(route, status)`` sets a fault (401 expired
    token, 429 with Retry-After, 5xx, 0 = a download dropped mid-body); ``corrupt_next``
    stores the next commit with a flipped byte; ``clock_offset`` moves its clock.
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        page_size: int = 3,
        *,
        links_over_http: bool = False,
        port: int = 0,
        persist: bool = False,
    ) -> None:
        #: Serve temporary links from a second, plain-HTTP port (for a demo in a browser
        #: that does not trust the generated CA); the API stays on HTTPS.
        self.links_over_http = links_over_http
        self._links_httpd: ThreadingHTTPServer | None = None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="dropbox-fake-"))
        self.page_size = page_size
        self.tree: dict[str, Entry] = {"": Entry("", folder=True)}
        self.sessions: dict[str, Path] = {}
        self.links: dict[str, tuple[str, float]] = {}  # token -> (path_lower, expiry)
        self.upload_links: dict[str, tuple[dict[str, Any], float]] = {}
        self.tokens: dict[str, float] = {}  # access token -> expiry (time.time())
        self.scopes: dict[str, set[str]] = {}  # access token -> scopes (none: all)
        self.apps: dict[str, tuple[str, str]] = {}  # refresh token -> (app key, secret)
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.clock_offset = 0.0  # added to time.time(): tests move the clock forward
        self.corrupt_next = False  # the next commit stores its bytes with one flipped
        self.lock = threading.RLock()
        self.ca_path = str(self.directory / "ca.pem")
        self._httpd: ThreadingHTTPServer | None = None
        self.port = port
        #: Keep the tree, the tokens and the CA in ``directory`` (``state.json``), so a
        #: server killed and started again there has them (``python -m`` this module).
        self.persist = persist
        if persist and (self.directory / "state.json").exists():
            self._load_state()

    # -- life --------------------------------------------------------------------------

    def start(self) -> DropboxServer:
        import trustme

        key_path = self.directory / "ca-key.pem"
        if self.persist and key_path.exists():
            ca = trustme.CA.from_pem(Path(self.ca_path).read_bytes(), key_path.read_bytes())
        else:
            ca = trustme.CA()
            self.directory.mkdir(parents=True, exist_ok=True)
            ca.cert_pem.write_to_path(self.ca_path)
            if self.persist:
                ca.private_key_pem.write_to_path(str(key_path))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        (self.directory / "blobs").mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        if self.links_over_http:
            self._links_httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            self._links_httpd.daemon_threads = True
            threading.Thread(target=self._links_httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._links_httpd is not None:
            self._links_httpd.shutdown()
            self._links_httpd.server_close()
            self._links_httpd = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> DropboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def link_base(self) -> str:
        """Where temporary links and upload links point."""
        if self._links_httpd is not None:
            return f"http://127.0.0.1:{self._links_httpd.server_address[1]}"
        return f"https://{self.host}"

    def now(self) -> float:
        return time.time() + self.clock_offset

    def _save_state(self) -> None:
        """Write the tree and the tokens out (atomically), when ``persist`` is on."""
        if not self.persist:
            return
        tree = {
            key: {**entry.__dict__, "blob": str(entry.blob) if entry.blob else None}
            for key, entry in self.tree.items()
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        state = self.directory / "state.json"
        temporary = state.with_suffix(".tmp")
        temporary.write_text(json.dumps({"tree": tree, "tokens": self.tokens}))
        os.replace(temporary, state)

    def _load_state(self) -> None:
        state = json.loads((self.directory / "state.json").read_text())
        self.tokens = dict(state["tokens"])
        self.tree = {
            key: Entry(**{**value, "blob": Path(value["blob"]) if value["blob"] else None})
            for key, value in state["tree"].items()
        }

    # -- accounts and faults -------------------------------------------------------------

    def issue_token(self, life: float = LINK_LIFE, scopes: set[str] | None = None) -> str:
        token = "sl." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.now() + life
            self._save_state()
        if scopes is not None:
            self.scopes[token] = scopes
        return token

    def register_app(self, app_key: str, app_secret: str) -> str:
        """Return a refresh token for the app (``/oauth2/token`` exchanges it)."""
        refresh = secrets.token_urlsafe(32)
        self.apps[refresh] = (app_key, app_secret)
        return refresh

    def fail(
        self,
        route: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int = 1,
        after: bool = False,
    ) -> None:
        """The next ``times`` calls of ``route`` fail with ``status`` (0: dropped mid-body);
        ``after``: the call takes effect first, and only its answer is the failure."""
        self.faults.append(Fault(route, status, retry_after, times, after))

    def count(self, route: str | None = None) -> int:
        return sum(self.calls.values()) if route is None else self.calls[route]

    def reset_counts(self) -> None:
        self.calls.clear()

    # -- the tree ------------------------------------------------------------------------

    def put(self, display: str, blob: Path, mode: Any) -> Entry:
        """Commit ``blob`` at ``display`` under the write ``mode``; the documented conflicts."""
        key = display.lower()
        with self.lock:
            existing = self.tree.get(key)
            tag = mode if isinstance(mode, str) else mode[".tag"]
            if existing is not None and existing.folder:
                raise route_error("path", "conflict", "folder")
            if existing is not None and tag == "add":
                raise route_error("path", "conflict", "file")
            if tag == "update" and (existing is None or existing.rev != mode["update"]):
                raise route_error("path", "conflict", "file")
            self._make_parents(display)
            entry = Entry(display, folder=False)
            if existing is not None:
                entry.id, entry.display = existing.id, existing.display
            if self.corrupt_next:  # bit rot between the hash check and the disk
                self.corrupt_next = False
                with blob.open("r+b") as file:
                    first = file.read(1) or b"\0"
                    file.seek(0)
                    file.write(bytes([first[0] ^ 0xFF]))
            entry.rev = secrets.token_hex(8) + "0"
            entry.size = blob.stat().st_size
            entry.modified = datetime.fromtimestamp(self.now(), timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            entry.hash = _file_hash(blob)
            entry.blob = self.directory / "blobs" / entry.rev
            os.replace(blob, entry.blob)
            self.tree[key] = entry
            self._save_state()
            return entry

    def _make_parents(self, display: str) -> None:
        parts = display.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:depth])
            found = self.tree.get(path.lower())
            if found is None:
                self.tree[path.lower()] = Entry(path, folder=True)
            elif not found.folder:
                raise route_error("path", "conflict", "file")

    def lookup(self, path: str, tag: str = "path") -> Entry:
        if path in ("", "/"):
            if tag == "path" and path == "":
                return self.tree[""]
            raise ApiFailure(400, "Error in call: the root folder is unsupported.")
        _check_path(path)
        entry = self.tree.get(path.lower())
        if entry is None:
            raise route_error(tag, "not_found")
        return entry

    def children(self, folder: str) -> list[Entry]:
        prefix = folder.lower() + "/"
        return sorted(
            (
                e
                for k, e in self.tree.items()
                if k and k.startswith(prefix) and "/" not in k[len(prefix) :]
            ),
            key=lambda e: e.display.lower(),
        )

    def new_blob(self) -> Path:
        return self.directory / "blobs" / ("tmp-" + secrets.token_hex(8))


def _check_path(path: str) -> None:
    if not path.startswith("/") or path.endswith("/") or "//" in path:
        raise route_error("path", "malformed_path")


def _cursor(path: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([path, offset]).encode()).decode()


class _Handler(BaseHTTPRequestHandler):
    """One request: authenticate, apply a fault if one is set, run the route."""

    server_state: DropboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    drop = False
    lost_answer = 0  # a status that replaces the route's answer once it has taken effect

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        # Links are fetched and upload links posted to by browsers of other origins.
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, POST")
        self.send_header(
            "Access-Control-Allow-Headers", "Content-Type, Authorization, Dropbox-API-Arg"
        )
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/__calls":  # the test harness's counters (benchmarks in a subprocess)
            self._json(200, dict(self.server_state.calls))
            return
        token = self.path.removeprefix("/tl/")
        state = self.server_state
        link = state.links.get(token)
        if not self.path.startswith("/tl/") or link is None or link[1] < state.now():
            self._send(410 if link else 404, b"gone", "text/plain")
            return
        entry = state.tree.get(link[0])
        if entry is None or entry.blob is None:
            self._send(404, b"not found", "text/plain")
            return
        self._stream(200, entry.blob, 0, entry.size, {})

    def do_POST(self) -> None:
        state = self.server_state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            # The client went away mid-body: like any HTTP server, Dropbox acts on no
            # request it did not receive whole (this one committed the part it had).
            self.close_connection = True
            return
        route = self.path.split("?", 1)[0].removeprefix("/2/").lstrip("/")
        state.calls[route] += 1
        try:
            if self._fault(route):
                return
            if route == "oauth2/token":
                self._json(200, self._token(body))
                return
            if route.startswith("tul/"):
                self._json(200, self._upload_link(route.removeprefix("tul/"), body))
                return
            self._authenticate(route)
            handler = ROUTES.get(route)
            if handler is None:
                raise ApiFailure(404, "Unknown route")
            if "Dropbox-API-Arg" in self.headers:
                arg = json.loads(self.headers["Dropbox-API-Arg"])
            else:
                arg = json.loads(body or b"null")
                body = b""
            handler(self, arg, body)
        except ApiFailure as failure:
            if isinstance(failure.body, str):
                self._send(failure.status, failure.body.encode(), "text/plain; charset=utf-8")
            else:
                self._json(failure.status, failure.body, failure.headers)

    # -- plumbing ------------------------------------------------------------------------

    def _fault(self, route: str) -> bool:
        state = self.server_state
        with state.lock:
            fault = next((f for f in state.faults if f.route in (route, "*")), None)
            if fault is None:
                return False
            fault.times -= 1
            if fault.times <= 0:
                state.faults.remove(fault)
        if fault.status == 0:  # the route answers, and the connection drops mid-body
            self.drop = True
            return False
        if fault.after:
            self.lost_answer = fault.status
            return False
        if fault.status == 401:
            failure = _auth_error("expired_access_token")
        elif fault.status == 429:
            body = {
                "error_summary": "too_many_requests/..",
                "error": {
                    "reason": {".tag": "too_many_requests"},
                    "retry_after": fault.retry_after,
                },
            }
            failure = ApiFailure(429, body, {"Retry-After": str(fault.retry_after)})
        else:
            failure = ApiFailure(fault.status, "Internal server error")
        raise failure

    def _authenticate(self, route: str) -> None:
        state = self.server_state
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        expiry = state.tokens.get(token)
        if expiry is None:
            raise _auth_error("invalid_access_token")
        if expiry < state.now():
            raise _auth_error("expired_access_token")
        scopes = state.scopes.get(token)
        needed = "files.content.write" if route in WRITE_ROUTES else "files.content.read"
        if route in META_ROUTES:
            needed = "files.metadata.read"
        if scopes is not None and needed not in scopes:
            raise _auth_error("missing_scope", required_scope=needed)

    def _send(
        self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        if self.lost_answer:
            status, value, headers = self.lost_answer, {"error_summary": "lost"}, None
            self.lost_answer = 0
        self._send(status, json.dumps(value).encode(), "application/json", headers)

    def _token(self, body: bytes) -> dict[str, Any]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        app = self.server_state.apps.get(form.get("refresh_token", ""))
        if form.get("grant_type") != "refresh_token" or app is None:
            raise ApiFailure(
                400, {"error": "invalid_grant", "error_description": "refresh token is invalid"}
            )
        if app != (form.get("client_id"), form.get("client_secret")):
            raise ApiFailure(400, {"error": "invalid_client", "error_description": "bad app"})
        token = self.server_state.issue_token()
        return {"access_token": token, "token_type": "bearer", "expires_in": LINK_LIFE}

    def _upload_link(self, token: str, body: bytes) -> dict[str, Any]:
        state = self.server_state
        found = state.upload_links.pop(token, None)
        if found is None or found[1] < state.now():
            raise ApiFailure(410, "This upload link is gone.")
        entry = self._commit(found[0], self._blob(body))
        return {"content-hash": entry.hash}

    def _blob(self, data: bytes, arg: dict[str, Any] | None = None) -> Path:
        wanted = (arg or {}).get("content_hash")
        if wanted and wanted != content_hash(data):
            raise route_error("content_hash_mismatch")
        blob = self.server_state.new_blob()
        blob.write_bytes(data)
        return blob

    def _commit(self, commit: dict[str, Any], blob: Path) -> Entry:
        path = commit["path"]
        _check_path(path)
        try:
            return self.server_state.put(path, blob, commit.get("mode", "add"))
        except ApiFailure:
            blob.unlink(missing_ok=True)
            raise

    # -- routes --------------------------------------------------------------------------

    def upload(self, arg: dict[str, Any], body: bytes) -> None:
        try:
            blob = self._blob(body, arg)
            entry = self._commit(arg, blob)
        except ApiFailure as failure:
            error = failure.body.get("error", {})
            if failure.status == 409 and error.get(".tag") == "path":
                failure.body["error"] = {
                    ".tag": "path",
                    "reason": error["path"],
                    "upload_session_id": "",
                }
            raise
        self._json(200, entry.metadata())

    def session_start(self, arg: dict[str, Any], body: bytes) -> None:
        session = secrets.token_hex(12)
        blob = self._blob(body, arg)
        self.server_state.sessions[session] = blob
        self._json(200, {"session_id": session})

    def _session(self, cursor: dict[str, Any], data: bytes, arg: dict[str, Any]) -> Path:
        blob = self.server_state.sessions.get(cursor["session_id"])
        if blob is None:
            raise route_error("lookup_failed", "not_found")
        size = blob.stat().st_size
        if cursor["offset"] != size:
            raise route_error("lookup_failed", "incorrect_offset", correct_offset=size)
        wanted = arg.get("content_hash")
        if wanted and wanted != content_hash(data):
            raise route_error("content_hash_mismatch")
        with blob.open("ab") as file:
            file.write(data)
        return blob

    def session_append(self, arg: dict[str, Any], body: bytes) -> None:
        try:
            self._session(arg["cursor"], body, arg)
        except ApiFailure as failure:  # append's errors are the lookup error itself
            error = failure.body["error"]
            if error.get(".tag") == "lookup_failed":
                failure.body["error"] = error["lookup_failed"]
                failure.body["error_summary"] = failure.body["error_summary"].split("/", 1)[1]
            raise
        self._json(200, None)

    def session_finish(self, arg: dict[str, Any], body: bytes) -> None:
        blob = self._session(arg["cursor"], body, arg)
        entry = self._commit(arg["commit"], blob)
        self.server_state.sessions.pop(arg["cursor"]["session_id"], None)
        self._json(200, entry.metadata())

    def download(self, arg: dict[str, Any], body: bytes) -> None:
        entry = self.server_state.lookup(arg["path"])
        if entry.folder or entry.blob is None:
            raise route_error("path", "not_file")
        size = entry.size
        start, end, status = 0, size - 1, 200
        headers = {"Dropbox-API-Result": json.dumps(entry.metadata())}
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            start_text, _, end_text = wanted[6:].partition("-")
            start = int(start_text)
            end = min(int(end_text), size - 1) if end_text else size - 1
            if start >= size:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                return
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            status = 206
        self._stream(status, entry.blob, start, end + 1 - start, headers)

    def _stream(
        self, status: int, blob: Path, start: int, length: int, headers: dict[str, str]
    ) -> None:
        """Send ``length`` bytes of ``blob`` from ``start`` in 1 MiB pieces (bounded memory);
        a pending drop fault sends half of them and closes the connection."""
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.drop:
            length //= 2
            self.close_connection = True
        with blob.open("rb") as file:
            file.seek(start)
            while length > 0 and (piece := file.read(min(length, 1024 * 1024))):
                self.wfile.write(piece)
                length -= len(piece)

    def get_metadata(self, arg: dict[str, Any], body: bytes) -> None:
        entry = self.server_state.lookup(arg["path"])
        if not arg["path"]:
            raise ApiFailure(400, "Error in call: the root folder is unsupported.")
        self._json(200, entry.metadata())

    def list_folder(self, arg: dict[str, Any], body: bytes) -> None:
        path = arg["path"]
        entry = self.server_state.lookup(path)
        if not entry.folder:
            raise route_error("path", "not_folder")
        self._page(
            path,
            0,
            min(arg.get("limit") or self.server_state.page_size, self.server_state.page_size),
        )

    def list_folder_continue(self, arg: dict[str, Any], body: bytes) -> None:
        try:
            path, offset, limit = json.loads(base64.urlsafe_b64decode(arg["cursor"]))
        except ValueError:
            raise route_error("reset") from None
        self._page(path, offset, limit)

    def _page(self, path: str, offset: int, limit: int) -> None:
        entries = self.server_state.children(path)
        page = entries[offset : offset + limit]
        more = offset + limit < len(entries)
        cursor = base64.urlsafe_b64encode(json.dumps([path, offset + limit, limit]).encode())
        result = {
            "entries": [e.metadata() for e in page],
            "cursor": cursor.decode(),
            "has_more": more,
        }
        self._json(200, result)

    def delete(self, arg: dict[str, Any], body: bytes) -> None:
        state = self.server_state
        with state.lock:
            entry = state.lookup(arg["path"], tag="path_lookup")
            key = entry.display.lower()
            for other in [k for k in state.tree if k == key or k.startswith(key + "/")]:
                state.tree.pop(other)
            state._save_state()
        self._json(200, {"metadata": entry.metadata()})

    def temporary_link(self, arg: dict[str, Any], body: bytes) -> None:
        state = self.server_state
        entry = state.lookup(arg["path"])
        if entry.folder:
            raise route_error("path", "not_file")
        token = secrets.token_urlsafe(16)
        state.links[token] = (entry.display.lower(), state.now() + LINK_LIFE)
        link = f"{state.link_base}/tl/{token}"
        self._json(200, {"metadata": entry.metadata(), "link": link})

    def temporary_upload_link(self, arg: dict[str, Any], body: bytes) -> None:
        state = self.server_state
        token = secrets.token_urlsafe(16)
        life = min(float(arg.get("duration", LINK_LIFE)), LINK_LIFE)
        state.upload_links[token] = (arg["commit_info"], state.now() + life)
        self._json(200, {"link": f"{state.link_base}/tul/{token}"})


ROUTES = {
    "files/upload": _Handler.upload,
    "files/upload_session/start": _Handler.session_start,
    "files/upload_session/append_v2": _Handler.session_append,
    "files/upload_session/finish": _Handler.session_finish,
    "files/download": _Handler.download,
    "files/get_metadata": _Handler.get_metadata,
    "files/list_folder": _Handler.list_folder,
    "files/list_folder/continue": _Handler.list_folder_continue,
    "files/delete_v2": _Handler.delete,
    "files/get_temporary_link": _Handler.temporary_link,
    "files/get_temporary_upload_link": _Handler.temporary_upload_link,
}
WRITE_ROUTES = {r for r in ROUTES if "upload" in r or "delete" in r}
META_ROUTES = {"files/get_metadata", "files/list_folder", "files/list_folder/continue"}


def main(argv: list[str] | None = None) -> None:
    """Serve on a port, keeping everything in a folder, until killed (tests that SIGKILL
    the server and start it again); ``--token`` is accepted for a day."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m storages_dropbox.testing")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--token")
    args = parser.parse_args(argv)
    server = DropboxServer(args.data, port=args.port, persist=True)
    if args.token and args.token not in server.tokens:
        with server.lock:
            server.tokens[args.token] = server.now() + 86400
            server._save_state()
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
