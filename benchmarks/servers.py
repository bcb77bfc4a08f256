"""The local servers, each in its own process on 127.0.0.1 (never in the client's process).

``python benchmarks/servers.py moto PORT`` is moto's own server with two server-side
corrections, the same for both columns:

- stock moto lists and stats its ~200 package folders on every request
  (``backends.list_of_moto_modules``, to match the Host header to a service), which costs
  more than the S3 operation itself; the list is computed once;
- a ranged GET reads the whole stored object and then slices it: a 512 MiB file read in
  64 ranges of 8 MiB (what s3transfer does) reads 32 GiB; a ranged GET reads its range only,
  and a whole GET is sent as it is read instead of after moto built all of it;
- a multipart upload that names no checksum algorithm gets a whole-object checksum at
  CompleteMultipartUpload, which moto computes by copying every part into one more buffer
  and that buffer into bytes (1 GiB of copies for a 512 MiB file, about half the time of a
  whole save); it is computed part by part instead, to the same value.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Server:
    """A server process (own session, so its children go with it) and its port."""

    def __init__(self, argv: list[str], port: int, log: Path | None = None, **kwargs) -> None:
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (lives with the process)
        self.port = port
        self.proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        wait_port(port, self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


def start_moto(tmpdir: Path | None = None) -> Server:
    """moto in its own process; the parts it spools go to ``tmpdir`` if given."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmpdir)} if tmpdir else None
    return Server([sys.executable, str(HERE / "servers.py"), "moto", str(port)], port, env=env)


def start_gcs() -> Server:
    """gcp-storage-emulator in its own process (in memory, requests served on threads)."""
    port = free_port()
    return Server([sys.executable, str(HERE / "servers.py"), "gcs", str(port)], port)


def _run_gcs(port: int) -> None:
    """The emulator's own request handler on a threaded server: its ``start`` serves one
    request at a time, so a download a client leaves open would stall the next one."""
    import logging
    from functools import partial
    from http.server import ThreadingHTTPServer

    from gcp_storage_emulator.server import RequestHandler
    from gcp_storage_emulator.storage import Storage

    logging.disable(logging.WARNING)
    # Server-side corrections, the same for both columns (each was written for this and
    # then never called: the emulator's state was shared by unserialised threads, and a
    # handler that broke on it closed its connection; the client's retry of that upload
    # was counted as a second one, 510 POSTs for 500 files).
    _media_download_headers()
    _partial_responses()
    _handlers_one_at_a_time()
    _resumable_uploads_append_in_place(Storage)
    _no_metadata_dump(Storage)
    _multipart_uploads_split()
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", port), partial(RequestHandler, Storage(use_memory_fs=True))
    )
    httpd.daemon_threads = True
    httpd.serve_forever()


def _media_download_headers() -> None:
    """A media download answers with the object's generation, stored size and encoding
    and ``Last-Modified`` beside its bytes, as GCS does (Google's Go client takes a
    reader's ``LastModified`` from that header, JSON and XML reads alike); the emulator
    sends none of them. Added as ``storages_gcs.testing`` (the package's tests) adds them."""
    from http import HTTPStatus

    from gcp_storage_emulator import server
    from gcp_storage_emulator.handlers import objects

    from storages_gcs.testing import media_headers

    def with_headers(function: Any) -> Any:
        def run(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
            result = function(request, response, storage, *args, **kwargs)
            media = function is objects.download or request.query.get("alt") == ["media"]
            if media and response.status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
                media_headers(storage, request, response)
            return result

        return run

    server.HANDLERS = tuple(
        (regex, {m: with_headers(f) if f in (objects.get, objects.download) else f
                 for m, f in routes.items()})
        for regex, routes in server.HANDLERS
    )  # fmt: skip


def _partial_responses() -> None:
    """A JSON answer is cut to the request's ``fields`` (GCS's partial response: a listing
    asked for ``items(name),prefixes,nextPageToken`` gets the names, not every object's
    whole resource); the emulator ignored ``fields``. The same code as the package's tests'
    emulator (``storages_gcs.testing.answer_with_fields``). A request without ``fields``
    (the classic's) is answered as before."""
    from gcp_storage_emulator import server

    from storages_gcs.testing import answer_with_fields

    def with_fields(function: Any) -> Any:
        def run(request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
            answer_with_fields(request, response)
            return function(request, response, *args, **kwargs)

        return run

    server.HANDLERS = tuple(
        (regex, {method: with_fields(f) for method, f in routes.items()})
        for regex, routes in server.HANDLERS
    )


def _multipart_uploads_split() -> None:
    """A multipart upload's body (the object's JSON, then its bytes) is split at its
    boundary. The emulator parsed it with ``email``'s line-by-line feed parser, compiling
    a regex for each upload's new boundary: about 0.4 ms of its CPU per 10 KiB upload, a
    third of its time per small upload, which GCS does not charge the client. The same
    parts come out (``split_related``); any body but two parts without a transfer
    encoding goes the emulator's own way."""
    from gcp_storage_emulator import server

    def read_data(handler: Any, query: Any) -> Any:
        content_type = handler.headers.get("Content-Type") or ""
        if not content_type.startswith("multipart/related"):
            return emulator_read_data(handler, query)
        raw = server._decode_raw_data(server._read_raw_data(handler), handler)
        if not raw:
            return None
        return split_related(content_type, raw) or _email_related(content_type, raw)

    emulator_read_data = server._read_data
    server._read_data = read_data


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def split_related(content_type: str, raw: bytes) -> dict[str, Any] | None:
    """The emulator's reading of a two-part ``multipart/related`` upload, or None."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None
    pieces = raw.split(b"--" + found.group(1).encode("latin-1"))
    if len(pieces) != 4 or not pieces[3].startswith(b"--"):
        return None
    parts = []
    for piece in pieces[1:3]:
        head, blank, body = piece.partition(b"\r\n\r\n")
        if not blank or not head.startswith(b"\r\n") or not body.endswith(b"\r\n"):
            return None
        headers = {}
        for line in head[2:].decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                return None
            headers[name.strip().lower()] = value.strip()
        if "content-transfer-encoding" in headers:
            return None
        parts.append((headers, body[:-2]))
    kind = parts[1][0].get("content-type", "text/plain").split(";")[0].strip().lower()
    return {
        "meta": json.loads(parts[0][1]),
        "content": parts[1][1],
        "content-type": kind if kind.count("/") == 1 else "text/plain",
    }


def _email_related(content_type: str, raw: bytes) -> dict[str, Any]:
    """The emulator's own reading (``gcp_storage_emulator.server._read_data``)."""
    from email.parser import BytesParser

    message = BytesParser().parsebytes(f"Content-Type:{content_type}\r\n".encode() + raw)
    payload = message.get_payload()
    return {
        "meta": json.loads(payload[0].get_payload()),
        "content": payload[1].get_payload(decode=True),
        "content-type": payload[1].get_content_type(),
    }


def _handlers_one_at_a_time() -> None:
    """The emulator's state is not thread-safe: its handlers run one at a time (the
    responses, streamed reads included, are still written concurrently)."""
    import threading

    from gcp_storage_emulator import server

    lock = threading.Lock()

    def serialised(function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return function(*args, **kwargs)

        return run

    server.HANDLERS = tuple(
        (regex, {method: serialised(f) for method, f in routes.items()})
        for regex, routes in server.HANDLERS
    )


def _no_metadata_dump(storage_class: Any) -> None:
    """The emulator writes the JSON of every object's metadata (``.meta``) after each
    write, so the n-th upload costs O(n); in memory nothing reads it back."""
    storage_class._write_config_to_file = lambda self: None


def _resumable_uploads_append_in_place(storage_class: Any) -> None:
    """The emulator appends each chunk of a resumable upload by copying everything received
    so far into a new ``bytes`` (64 chunks of a 512 MiB file copy 16 GiB); chunks are
    appended to one buffer per upload instead, with the same answers."""
    from gcp_storage_emulator.exceptions import BadRequest

    buffers: dict[str, bytearray] = {}

    def byte_count(self: Any, file_id: str) -> int:
        return len(buffers.get(file_id, b""))

    def append(
        self: Any, file_id: str, content: bytes, total_size: Any = None, expected_start: Any = None
    ) -> bytes | None:
        buffer = buffers.setdefault(file_id, bytearray())
        if expected_start is not None and expected_start != len(buffer):
            raise BadRequest(f"Invalid Content-Range start: expected {len(buffer)}")
        if not buffer:  # the placeholder the emulator deletes when the upload completes
            self._store.write_bytes(self._object_path("_resumable", self.safe_id(file_id)), b"")
        buffer += content or b""
        if total_size is None or len(buffer) < total_size:
            return None
        del buffers[file_id]
        return bytes(buffer[:total_size])

    storage_class.get_resumable_byte_count = byte_count
    storage_class.add_to_resumable_upload = append


def start_ftp(root: Path) -> Server:
    """pyftpdlib as its own process, serving ``root`` to user ``bench``."""
    port = free_port()
    argv = [sys.executable, "-W", "ignore", "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(port)]
    argv += ["-d", str(root), "-u", "bench", "-P", "bench", "-w"]
    return Server(argv, port)


AZURITE_BIN = HERE.parent / "node_modules" / ".bin" / "azurite-blob"
AZURITE_ACCOUNT = "devstoreaccount1"
#: Azurite's well-known development key (public documentation, not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def start_azurite(tmpdir: Path) -> Server | None:
    """Azurite's blob service (npm) in its own process, files under ``tmpdir`` (None if
    it is not installed)."""
    if not AZURITE_BIN.exists():
        return None
    port = free_port()
    argv = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    argv += ["--location", str(tmpdir / "azurite"), "--silent", "--skipApiVersionCheck"]
    return Server([*argv, "--disableTelemetry"], port)


def azurite_connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


def azurite_container(server: Server | None, name: str) -> None:
    """Create the (private) container ``name`` on Azurite, directly (not counted)."""
    from azure.storage.blob import BlobServiceClient

    assert server is not None, "no Azurite"
    service = BlobServiceClient.from_connection_string(
        azurite_connection_string(server.port), retry_total=0
    )
    service.create_container(name)


SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def start_sshd(d: Path) -> tuple[Any, dict[str, object]] | None:
    """A private OpenSSH sshd whose sftp-server logs each request (None if not installed)."""
    from storages_sftp.testing import SSHD_BINARY, SSHServer

    if not Path(SSHD_BINARY).exists():
        return None
    # a log per session (the shell's $$): proxy.LogCounter tells the two sides' apart
    server = SSHServer(d, subsystem=f"{SFTP_SERVER} -e -l DEBUG3 2>>{d}/sftp-$$.log")
    server.start()
    address = server.address()
    params = {"username": address["username"], "key_filename": address["key_filename"]}
    return server, {
        "port": address["port"],
        "params": params,
        "known_hosts": address["known_host_file"],
    }


def _run_moto(port: int) -> None:
    import logging

    from moto import backends, server

    modules = list(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    _ranged_gets_read_their_range()
    _full_object_checksum_without_copies()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server.main(["-H", "127.0.0.1", "-p", str(port)])


def _ranged_gets_read_their_range() -> None:
    """While moto answers a GET with a Range header, ``key.value`` reads slices only."""
    import threading

    from moto.s3.models import FakeKey
    from moto.s3.responses import S3Response

    ranged = threading.local()

    class KeyRange:
        def __init__(self, key: FakeKey) -> None:
            self.key = key

        def __len__(self) -> int:
            return int(self.key.size)

        def __getitem__(self, part: slice) -> bytes:
            start, stop, _ = part.indices(len(self))
            with self.key.lock:
                self.key._value_buffer.seek(start)
                return bytes(self.key._value_buffer.read(max(0, stop - start)))

    class KeyStream(KeyRange):
        """A whole object, sent as it is read (moto would build all of it first)."""

        def __iter__(self) -> Iterator[bytes]:
            offset, size = 0, len(self)
            while offset < size and (chunk := self[offset : offset + 1024 * 1024]):
                offset += len(chunk)
                yield chunk

    whole = FakeKey.value
    FakeKey.value = property(  # type: ignore[assignment]
        lambda key: KeyRange(key) if getattr(ranged, "on", False) else whole.fget(key),
        whole.fset,
    )
    get_object, handle_range = S3Response.get_object, S3Response._handle_range_header

    def ranged_get_object(self: S3Response) -> object:
        ranged.on = True
        try:
            status, headers, body = get_object(self)
        finally:
            ranged.on = False
        if isinstance(body, KeyRange) and not self.headers.get("range"):
            body = KeyStream(body.key)
        return status, headers, body

    def slice_range(self: S3Response, request: object, headers: dict, content: object) -> object:
        status, headers, body = handle_range(self, request, headers, content)
        return status, headers, body[:] if isinstance(body, KeyRange) else body

    S3Response.get_object = ranged_get_object  # type: ignore[method-assign]
    S3Response._handle_range_header = slice_range  # type: ignore[method-assign]


def _full_object_checksum_without_copies() -> None:
    """moto's FULL_OBJECT multipart checksum, as a running CRC instead of a copy of the object.

    Without the optional awscrt, moto computes CRC32 for CRC64NVME (its own fallback); the
    running CRC32 below gives that same value.
    """
    import base64
    import binascii

    from moto.s3 import models
    from moto.s3 import utils as s3_utils

    builder = models.MultipartChecksumBuilder
    add_part, build = builder.addPart, builder.build

    def running_add_part(self: Any, part: bytes) -> None:
        if self.checksum_type != "FULL_OBJECT" or s3_utils.HAS_CRT:
            return add_part(self, part)
        self.running_crc = binascii.crc32(part, getattr(self, "running_crc", 0))
        self.part_count += 1
        return None

    def running_build(self: Any) -> Any:
        if self.checksum_type != "FULL_OBJECT" or s3_utils.HAS_CRT:
            return build(self)
        crc = getattr(self, "running_crc", 0).to_bytes(4, "big")
        return self.checksum_type, base64.b64encode(crc).decode(), 1

    builder.addPart = running_add_part  # type: ignore[method-assign]
    builder.build = running_build  # type: ignore[method-assign]


if __name__ == "__main__":
    if sys.argv[1:2] == ["moto"]:
        _run_moto(int(sys.argv[2]))
    elif sys.argv[1:2] == ["gcs"]:
        _run_gcs(int(sys.argv[2]))
