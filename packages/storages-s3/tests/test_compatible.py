"""S3-compatible servers that refuse what AWS accepts: a fault-injecting HTTP proxy on
loopback in front of moto answers 501 NotImplemented to any If-None-Match, as older MinIO
and some other services do (neither moto nor s3rver can be made to refuse it)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile

from storages_s3 import S3Storage

from .conftest import S3Server

NOT_IMPLEMENTED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
    b"<Message>A header you provided implies functionality that is not implemented</Message>"
    b"</Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def refusing_proxy(upstream: str) -> tuple[ThreadingHTTPServer, list[str]]:
    target = urlsplit(upstream)
    refused: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if "If-None-Match" in self.headers:
                refused.append(f"{self.command} {self.path}")
                self.reply(501, [("Content-Type", "application/xml")], NOT_IMPLEMENTED)
                return
            upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            upstream_conn.request(self.command, self.path, body, headers)
            response = upstream_conn.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            length_header = response.getheader("Content-Length")
            self.reply(response.status, kept, data, length_header)
            upstream_conn.close()

        def reply(
            self,
            status: int,
            headers: list[tuple[str, str]],
            data: bytes,
            length: str | None = None,
        ) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, refused


@pytest.fixture
def refusing(moto: S3Server) -> Iterator[tuple[S3Storage, list[str]]]:
    server, refused = refusing_proxy(moto.endpoint)
    bucket = moto.new_bucket()
    storage = S3Storage(
        bucket_name=bucket,
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        region_name="us-east-1",
        access_key=moto.access_key,
        secret_key=moto.secret_key,
        file_overwrite=False,
    )
    yield storage, refused
    server.shutdown()


def test_a_server_refusing_conditional_writes_still_saves(
    refusing: tuple[S3Storage, list[str]],
) -> None:
    storage, refused = refusing
    assert storage.save("a.txt", ContentFile(b"one")) == "a.txt"
    assert storage.open("a.txt").read() == b"one"
    assert len(refused) == 1


def test_after_a_refusal_no_overwrite_saves_check_for_a_free_name_first(
    refusing: tuple[S3Storage, list[str]],
) -> None:
    storage, refused = refusing
    storage.save("a.txt", ContentFile(b"one"))
    second = storage.save("a.txt", ContentFile(b"two"))

    assert second != "a.txt"
    assert storage.open("a.txt").read() == b"one"
    assert storage.open(second).read() == b"two"
    assert storage.capabilities.conditional_create is False
    assert S3Storage.capabilities.conditional_create is True  # other storages unaffected
    assert len(refused) == 1  # the header is not sent again


def test_a_refused_condition_on_a_taken_name_does_not_overwrite(
    refusing: tuple[S3Storage, list[str]], moto: S3Server
) -> None:
    storage, _refused = refusing
    moto.client().put_object(Bucket=storage.bucket_name, Key="taken.txt", Body=b"old")

    with pytest.raises(FileExistsError):  # a racing writer's _save: save() tries another
        storage._save("taken.txt", ContentFile(b"new"))

    assert storage.open("taken.txt").read() == b"old"


@pytest.mark.slow
def test_a_refused_condition_on_a_multipart_upload_completes_without_it(
    refusing: tuple[S3Storage, list[str]], moto: S3Server
) -> None:
    storage, refused = refusing
    data = b"m" * (11 * 1024 * 1024)
    assert storage.save("big.bin", ContentFile(data)) == "big.bin"
    assert storage.size("big.bin") == len(data)
    assert refused[0].startswith("POST ")  # CompleteMultipartUpload
    uploads = moto.client().list_multipart_uploads(Bucket=storage.bucket_name)
    assert uploads.get("Uploads", []) == []
