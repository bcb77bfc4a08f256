"""gcp-storage-emulator, made faithful where GCS documents what the emulator lacks.

For tests, the demo and benchmarks only: it needs ``gcp-storage-emulator`` and
``cryptography`` (this package's test dependencies); the backend never imports it.

The emulator's own handlers serve every request; this module's dispatcher wraps them
with what GCS documents and the emulator does not do (each a few lines, below):

* ``X-Goog-Hash`` on the last chunk of a resumable upload checked (400, nothing stored);
* generation preconditions: ``ifGenerationMatch`` on uploads (``0``: the object must
  not exist), checked when a resumable session starts and when it finishes; 412;
* ``predefinedAcl=publicRead`` recorded as an ``allUsers`` reader ACL;
* a finished resumable session answers a status query with its object (200), as GCS;
* paginated listings: ``maxResults`` (default 1000, or ``page_size``) and
  ``pageToken``/``nextPageToken`` over items and prefixes together;
* a JSON answer is cut to the request's ``fields`` (GCS's partial response, e.g.
  ``items(name),prefixes,nextPageToken``; the emulator sent every object's whole
  resource, about 700 bytes each, whatever was asked);
* media downloads carry ``x-goog-generation``, ``x-goog-stored-content-*``,
  ``Last-Modified``; a gzip-encoded object is served as stored with
  ``Content-Encoding: gzip`` to a client that accepts gzip, else decompressed
  (decompressive transcoding, Range ignored and no hash, as GCS does);
* the XML-style object path ``/<bucket>/<object>`` checks V4 signatures (with the
  public keys registered in ``signers``) and their expiry, and refuses unsigned reads
  of objects that are not public (unless the bucket is in ``public_buckets``);
* form uploads (``POST /<bucket>/``, V4 POST policies, which the emulator lacks): the
  policy's signature, expiry and conditions (exact fields, ``starts-with``,
  ``content-length-range``; every form field covered) are checked before storing.

It also serves requests on threads (a streamed read left open must not block the next
request; the handlers themselves run one at a time under a lock), and records every
request so tests can count them.
"""

from __future__ import annotations

import base64
import email.policy
import gzip
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.parser import BytesParser
from email.utils import format_datetime
from functools import partial
from http import HTTPStatus, server
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from gcp_storage_emulator import server as emulator
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import buckets, objects
from gcp_storage_emulator.storage import Storage

PRECONDITION_FAILED = {
    "error": {
        "code": 412,
        "message": "At least one of the pre-conditions you specified did not hold.",
        "errors": [{"reason": "conditionNotMet", "domain": "global"}],
    }
}


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class _Handler(server.BaseHTTPRequestHandler):
    def __init__(self, owner: GCSEmulator, *args: Any) -> None:
        self.owner = owner
        self.storage = owner.storage
        super().__init__(*args)

    def _handle(self) -> None:
        self.owner.dispatch(self, self.command)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FormUploads:
    """``POST /<bucket>/`` with a V4 POST policy (mixed into :class:`GCSEmulator`)."""

    storage: Storage
    signers: dict[str, Any]

    def _form_upload(self, handler: Any, request: Any, bucket: str, response: Any) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        head = f"Content-Type: {handler.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message: Any = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, str] = {}
        data, file_type = b"", None
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload: bytes = part.get_payload(decode=True) or b""
            if name == "file":
                data, file_type = payload, part.get_content_type()
            else:
                fields[name] = payload.decode()
        problem = self._policy_problem(bucket, fields, data)
        if problem:
            too_large = problem == "EntityTooLarge"
            response.status = HTTPStatus.BAD_REQUEST if too_large else HTTPStatus.FORBIDDEN
            response.write_file(
                f"<Error><Code>{problem}</Code></Error>".encode(), content_type="application/xml"
            )
            return
        key = fields["key"]
        metadata = {
            "contentType": fields.get("Content-Type") or file_type,
            "cacheControl": fields.get("Cache-Control"),
            "contentDisposition": fields.get("Content-Disposition"),
            "metadata": {k[12:]: v for k, v in fields.items() if k.startswith("x-goog-meta-")}
            or None,
        }
        obj = objects._make_object_resource(
            request.base_url, bucket, key, metadata["contentType"], str(len(data)), metadata
        )
        self.storage.create_file(bucket, key, data, objects._checksums(data, obj))
        if fields.get("acl") == "public-read":
            self._make_public(bucket, key)  # type: ignore[attr-defined]
        response.status = HTTPStatus.NO_CONTENT

    def _policy_problem(self, bucket: str, fields: dict[str, str], data: bytes) -> str | None:
        email_, _, _scope = fields.get("x-goog-credential", "").partition("/")
        key = self.signers.get(email_)
        if key is None or "policy" not in fields:
            return "AccessDenied"
        try:
            key.verify(
                bytes.fromhex(fields.get("x-goog-signature", "")),
                fields["policy"].encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return "SignatureDoesNotMatch"
        policy = json.loads(base64.b64decode(fields["policy"]))
        expires = datetime.fromisoformat(policy["expiration"].rstrip("Z"))
        if expires.replace(tzinfo=timezone.utc) < datetime.now(timezone.utc):
            return "ExpiredToken"
        covered = {"bucket"}
        for condition in policy["conditions"]:
            if isinstance(condition, dict):
                (name, value), *_ = condition.items()
                covered.add(name.lower())
                given = bucket if name == "bucket" else fields.get(name)
                if given != value:
                    return "AccessDenied"
            elif condition[0] == "content-length-range":
                if not condition[1] <= len(data) <= condition[2]:
                    return "EntityTooLarge"
            else:
                operator, name, value = condition
                covered.add(name.lstrip("$").lower())
                given = fields.get(name.lstrip("$"), "")
                if (operator == "eq" and given != value) or not given.startswith(value):
                    return "AccessDenied"
        free = {"policy", "x-goog-signature", "file"}
        for name in fields:
            lowered = name.lower()
            if lowered not in covered | free and not lowered.startswith("x-ignore-"):
                return "AccessDenied"  # a field the policy does not cover
        return None


class GCSEmulator(_FormUploads):
    """The emulator on 127.0.0.1 with the extensions above."""

    def __init__(
        self, page_size: int = 1000, *, port: int = 0, data_dir: str | None = None
    ) -> None:
        # In memory, or in ``data_dir``: kept across a restart (``python -m storages_gcs.testing``).
        self.storage = Storage(use_memory_fs=data_dir is None, data_dir=data_dir)
        self.page_size = page_size
        self.log: list[Request] = []
        self.signers: dict[str, Any] = {}  # service-account email -> RSA public key
        self.public_buckets: set[str] = set()
        #: (method, bucket) pairs refused with GCS's 403, as IAM refuses a missing permission
        self.denied: dict[tuple[str, str], str] = {}
        self._conditions: dict[str, str] = {}  # resumable upload id -> ifGenerationMatch
        self._completed: dict[str, str] = {}  # resumable upload id -> the object stored
        self._lock = threading.Lock()
        self._httpd = server.ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> GCSEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def create_bucket(self, name: str) -> None:
        buckets.create_bucket(name, self.storage)

    def mark(self) -> int:
        return len(self.log)

    def requests(self, since: int) -> list[Request]:
        return self.log[since:]

    # -- dispatching -------------------------------------------------------------------

    def dispatch(self, handler: Any, method: str) -> None:
        request = emulator.Request(handler, method)
        response = emulator.Response(handler)
        parts = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.log.append(Request(method, parts.path, parts.query, headers))
        form_bucket = re.fullmatch(r"/([-.\w]+)/?", parts.path)
        if method == "POST" and form_bucket:
            with self._lock:
                self._form_upload(handler, request, form_bucket.group(1), response)
            response.close()
            return
        for regex, routes in emulator.HANDLERS:
            match = re.fullmatch(regex, request.path)
            if match:
                request.set_match(match)
                function = routes.get(method)
                if function is None:
                    response.status = HTTPStatus.NOT_IMPLEMENTED
                elif not self._allowed(method, match.groupdict(), response):
                    pass
                else:
                    if method in ("POST", "PUT", "PATCH"):
                        # The body is read before the lock: a client that stalls mid-body
                        # must not hold every other request up (GCS serves them apart).
                        request.data  # noqa: B018 (cached by the request)
                    with self._lock:
                        self._serve(function, request, response)
                break
        else:
            response.status = HTTPStatus.NOT_IMPLEMENTED
        response.close()

    def _allowed(self, method: str, params: dict[str, str], response: Any) -> bool:
        permission = self.denied.get((method, params.get("bucket_name", "")))
        if permission is None:
            return True
        message = (
            f"caller does not have {permission} access to the Google Cloud Storage object. "
            f"Permission '{permission}' denied on resource (or it may not exist)."
        )
        response.status = HTTPStatus.FORBIDDEN
        response.json(
            {
                "error": {
                    "code": 403,
                    "message": message,
                    "errors": [{"message": message, "domain": "global", "reason": "forbidden"}],
                }
            }
        )
        return False

    def _serve(self, function: Any, request: Any, response: Any) -> None:
        media = function is objects.download or (
            function is objects.get and request.query.get("alt") == ["media"]
        )
        xml_path = function is objects.download and not request.path.startswith("/download/")
        if xml_path and not self._may_read(request, response):
            return
        if function is objects.upload_partial:
            done = self._completed.get(request.query["upload_id"][0])
            if done is not None:  # GCS answers a finished session with its object
                response.json(json.loads(done))
                return
        if function in (objects.insert, objects.upload_partial) and not self._condition_holds(
            request, response
        ):
            return
        if function is objects.upload_partial:
            self._expect_hashes(request)
        if function is not objects.ls:  # a listing is cut once paginated
            answer_with_fields(request, response)
        function(request, response, self.storage)
        if function is objects.insert:
            self._after_insert(request, response)
        elif function is objects.upload_partial:
            self._after_chunk(request, response)
        elif function is objects.ls:
            answer_with_fields(request, response)
            self._paginate(request, response)
        if media and response.status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
            self._media_headers(request, response)

    # -- preconditions -----------------------------------------------------------------

    def _condition_holds(self, request: Any, response: Any) -> bool:
        if function_is_chunk(request):
            upload_id = request.query["upload_id"][0]
            expected = self._conditions.get(upload_id)
            final = "/*" not in (request.get_header("Content-Range") or "/*")
            if expected is None or not final:
                return True
            obj = self.storage.get_resumable_file_obj(upload_id)
            bucket, name = obj["bucket"], obj["name"]
        else:
            expected = _first(request.query, "ifGenerationMatch")
            if expected is None:
                return True
            bucket, name = request.params["bucket_name"], self._upload_name(request)
        current = self._generation(bucket, name)
        holds = (current is None) if expected == "0" else (current == expected)
        if not holds:
            response.status = HTTPStatus.PRECONDITION_FAILED
            response.json(PRECONDITION_FAILED)
        return holds

    def _expect_hashes(self, request: Any) -> None:
        """The last chunk of a resumable upload may carry ``X-Goog-Hash: crc32c=...,md5=...``:
        GCS checks the object against it (a 400 and nothing stored on a mismatch). The
        emulator checks the hashes of the object resource when it finalises: put them there."""
        given = request.get_header("X-Goog-Hash")
        final = "/*" not in (request.get_header("Content-Range") or "/*")
        if not given or not final:
            return
        obj = self.storage.get_resumable_file_obj(request.query["upload_id"][0])
        for part in given.split(","):
            kind, _, value = part.strip().partition("=")
            field = {"crc32c": "crc32c", "md5": "md5Hash"}.get(kind)
            if field and value:
                obj[field] = value

    def _upload_name(self, request: Any) -> str:
        name = _first(request.query, "name")
        if name is None and isinstance(request.data, dict):
            meta = request.data.get("meta", request.data)
            name = meta.get("name")
        return str(name)

    def _generation(self, bucket: str, name: str) -> str | None:
        try:
            return str(self.storage.get_file_obj(bucket, name)["generation"])
        except NotFound:
            return None

    def _after_insert(self, request: Any, response: Any) -> None:
        location = response._headers.get("Location")
        if location:  # a resumable session: remember its condition and ACL for the end
            upload_id = dict(parse_qsl(urlsplit(location).query)).get("upload_id", "")
            condition = _first(request.query, "ifGenerationMatch")
            if condition is not None:
                self._conditions[upload_id] = condition
            if _first(request.query, "predefinedAcl") == "publicRead":
                self._conditions[upload_id + ":acl"] = "publicRead"
            return
        if _first(request.query, "predefinedAcl") == "publicRead":
            self._make_public(request.params["bucket_name"], self._upload_name(request))

    def _after_chunk(self, request: Any, response: Any) -> None:
        upload_id = request.query["upload_id"][0]
        if response.status == HTTPStatus.OK:
            self._completed[upload_id] = response._content
        if response.status == HTTPStatus.OK and self._conditions.pop(upload_id + ":acl", None):
            obj = json.loads(response._content)
            self._make_public(obj["bucket"], obj["name"])

    def _make_public(self, bucket: str, name: str) -> None:
        obj = self.storage.get_file_obj(bucket, name)
        obj["acl"] = [{"entity": "allUsers", "role": "READER"}]
        self.storage.patch_object(bucket, name, obj)

    # -- listings ----------------------------------------------------------------------

    def _paginate(self, request: Any, response: Any) -> None:
        if response.status != HTTPStatus.OK:
            return
        body = json.loads(response._content)
        entries = sorted(
            [(item["name"], "items", item) for item in body.get("items") or []]
            + [(prefix, "prefixes", prefix) for prefix in body.get("prefixes") or []],
            key=lambda entry: entry[0],
        )
        size = int(_first(request.query, "maxResults") or self.page_size)
        start = int(_first(request.query, "pageToken") or 0)
        page: dict[str, Any] = {"kind": "storage#objects", "items": [], "prefixes": []}
        for _name, kind, value in entries[start : start + size]:
            page[kind].append(value)
        if start + size < len(entries):
            page["nextPageToken"] = str(start + size)
        response.json(page)

    # -- downloads ---------------------------------------------------------------------

    def _media_headers(self, request: Any, response: Any) -> None:
        media_headers(self.storage, request, response)

    def _may_read(self, request: Any, response: Any) -> bool:
        """Reads by the object path: a valid V4 signature, or a public object/bucket."""
        if "X-Goog-Signature" in request.query:
            problem = self._signature_problem(request)
        else:
            problem = None if self._is_public(request) else "AccessDenied"
        if problem is None:
            return True
        response.status = HTTPStatus.FORBIDDEN
        response.write_file(
            f"<Error><Code>{problem}</Code></Error>".encode(), content_type="application/xml"
        )
        return False

    def _is_public(self, request: Any) -> bool:
        bucket = request.params["bucket_name"]
        if bucket in self.public_buckets:
            return True
        try:
            acl = self.storage.get_file_obj(bucket, request.params["object_id"]).get("acl")
        except NotFound:
            return True  # answered 404 by the handler
        return any(entry.get("entity") == "allUsers" for entry in acl or [])

    def _signature_problem(self, request: Any) -> str | None:
        query = dict(parse_qsl(urlsplit(request.full_url).query, keep_blank_values=True))
        signature = query.pop("X-Goog-Signature")
        email, _, scope = query["X-Goog-Credential"].partition("/")
        key = self.signers.get(email)
        if key is None:
            return "InvalidAccessKeyId"
        signed = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ")
        expires = signed.replace(tzinfo=timezone.utc).timestamp() + int(query["X-Goog-Expires"])
        if time.time() > expires:
            return "ExpiredToken"
        names = query["X-Goog-SignedHeaders"].split(";")
        canonical_query = "&".join(
            sorted(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query.items())
        )
        headers = "".join(f"{name}:{request.get_header(name, '')}\n" for name in names)
        canonical = "\n".join(
            [
                request.method,
                urlsplit(request.full_url).path,
                canonical_query,
                headers,
                ";".join(names),
                "UNSIGNED-PAYLOAD",
            ]
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"GOOG4-RSA-SHA256\n{query['X-Goog-Date']}\n{scope}\n{digest}".encode()
        try:
            key.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "SignatureDoesNotMatch"
        return None


def media_headers(storage: Storage, request: Any, response: Any) -> None:
    """What GCS sends with a media download's bytes and the emulator does not: the
    object's generations, stored size and encoding, ``Last-Modified``; and a gzip-encoded
    object as stored to a client that accepts gzip, else decompressed. (Also used by the
    benchmarks' emulator, ``benchmarks/servers.py``.)"""
    bucket, name = request.params["bucket_name"], request.params["object_id"]
    obj = storage.get_file_obj(bucket, name)
    updated = datetime.strptime(obj["updated"], "%Y-%m-%dT%H:%M:%S.%fZ")
    response["x-goog-generation"] = str(obj["generation"])
    response["x-goog-metageneration"] = str(obj["metageneration"])
    response["x-goog-stored-content-length"] = str(obj["size"])
    response["x-goog-stored-content-encoding"] = obj.get("contentEncoding") or "identity"
    response["Last-Modified"] = format_datetime(updated.replace(tzinfo=timezone.utc), True)
    if obj.get("contentEncoding") != "gzip":
        return
    if "gzip" in (request.get_header("Accept-Encoding") or ""):
        response["Content-Encoding"] = "gzip"
        return
    response.status = HTTPStatus.OK  # transcoded: the whole file, decompressed, no hash
    for header in ("Content-Range", objects._HASH_HEADER):
        response._headers.pop(header, None)
    response._content = gzip.decompress(storage.get_file(bucket, name))


def answer_with_fields(request: Any, response: Any) -> None:
    """The JSON the handler answers with is cut to the request's ``fields`` selector, as
    GCS's partial responses are (``?fields=items(name,size),nextPageToken``). (Also used
    by the benchmarks' emulator, ``benchmarks/servers.py``.)"""
    selector = _first(request.query, "fields")
    if not selector or _first(request.query, "alt") == "media":
        return
    tree = parse_fields(selector)
    answer = response.json

    def cut(obj: Any) -> None:
        answer(select_fields(obj, tree) if response.status == HTTPStatus.OK else obj)

    response.json = cut


FieldTree = dict[str, "FieldTree | None"]
_FIELD_PATH = re.compile(r"[\w*]+(?:/[\w*]+)*")


def parse_fields(selector: str) -> FieldTree:
    """GCS's ``fields`` syntax: ``a,b/c,d(e,f/g)``, ``*`` for every key; ``b/c`` is
    ``b(c)``. A key maps to the tree of what to keep under it (``None``: all of it)."""
    tree, end = _parse_fields(selector.replace(" ", ""), 0)
    if end != len(selector.replace(" ", "")):
        raise ValueError(f"invalid fields selector: {selector!r}")
    return tree


def _parse_fields(text: str, at: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    while True:
        match = _FIELD_PATH.match(text, at)
        if match is None:
            raise ValueError(f"invalid fields selector at {at}: {text!r}")
        path, at = match.group().split("/"), match.end()
        sub: FieldTree | None = None
        if text.startswith("(", at):
            sub, at = _parse_fields(text, at + 1)
            if not text.startswith(")", at):
                raise ValueError(f"unbalanced fields selector: {text!r}")
            at += 1
        node: FieldTree | None = tree
        for key in path[:-1]:
            if node is not None:
                node = node[key] if key in node else node.setdefault(key, {})
        if node is not None:  # None: a key already kept whole
            node[path[-1]] = sub
        if not text.startswith(",", at):
            return tree, at
        at += 1


def select_fields(value: Any, tree: FieldTree | None) -> Any:
    """``value`` with only the keys ``tree`` names (lists: each of their items)."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {key: select_fields(item, tree["*"]) for key, item in value.items()}
    return {key: select_fields(value[key], sub) for key, sub in tree.items() if key in value}


def function_is_chunk(request: Any) -> bool:
    return "upload_id" in request.query


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def main(argv: list[str] | None = None) -> None:
    """Serve on a port with a data folder until killed (tests that SIGKILL the server)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m storages_gcs.testing")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True)
    args = parser.parse_args(argv)
    emulator_ = GCSEmulator(port=args.port, data_dir=args.data)
    emulator_._httpd.serve_forever()


if __name__ == "__main__":
    main()
