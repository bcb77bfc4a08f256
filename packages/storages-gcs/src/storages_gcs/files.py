"""GCS's part of reads and chunked uploads.

Reads: one ``GET ...?alt=media`` from an offset, streamed (``Range`` past 0), whose
headers give the stat, so ``open().read(1024)`` of a huge object is one request that
moves about a buffer, and ``size``/times after ``open`` cost nothing more. The bytes
are asked as stored (``Accept-Encoding: gzip``: no decompressive transcoding, the
base decompresses once), and a whole-object read is checked against the stored
CRC32C: a mismatch raises :class:`~storages_base.IntegrityError`.

Uploads: :class:`GCSParts` is what :mod:`storages_base.chunked` calls. A file of one
part is one multipart upload through the SDK (retried by it; with
``ifGenerationMatch=0`` when create-only); a larger one is a resumable session whose
chunks (multiples of 256 KiB) are PUT in order, the last one with the total size.
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

from storages_base.chunked import Part, PartRules, PartTarget, hash_part
from storages_base.content import gzip_original_size
from storages_base.errors import IntegrityError, TransientError
from storages_base.files import Stat
from storages_base.verified import VerifiedStream

from .errors import gcs_errors, raise_for_response
from .options import RESUMABLE_ALIGNMENT

if TYPE_CHECKING:
    from google.cloud.storage import Blob

__all__ = [
    "UNCOMPRESSED_SIZE",
    "WRITE_TOKEN",
    "DownloadStream",
    "GCSParts",
    "gcs_rules",
    "media_url",
    "stat_from_headers",
]

#: Metadata key holding a gzipped file's decompressed size (what read() returns).
UNCOMPRESSED_SIZE = "uncompressed-size"
#: Metadata key of a create-only write's token: the evidence that a clash is our own
#: write, resent after its response was lost (``_is_own_write``).
WRITE_TOKEN = "storages-write"


def gcs_rules() -> PartRules:
    """Resumable uploads: 256 KiB-aligned chunks, sent in order (one in flight)."""
    return PartRules(min_size=RESUMABLE_ALIGNMENT, alignment=RESUMABLE_ALIGNMENT, max_in_flight=1)


def media_url(base: str, bucket: str, key: str) -> str:
    """The JSON API download URL of ``key`` (the SDK's own shape)."""
    return f"{base}/download/storage/v1/b/{bucket}/o/{quote(key, safe='')}?alt=media"


def stat_from_headers(headers: Any, offset: int = 0) -> Stat:
    """The stat a media download's headers give (no metadata request needed)."""
    stored = headers.get("x-goog-stored-content-length")
    size: int | None = int(stored) if stored and stored.isdigit() else None
    if size is None:
        content_range = headers.get("Content-Range") or ""
        total = content_range.rsplit("/", 1)[-1] if "/" in content_range else ""
        length = headers.get("Content-Length")
        size = int(total) if total.isdigit() else offset + int(length or 0)
    encoding = headers.get("x-goog-stored-content-encoding") or headers.get("Content-Encoding")
    if encoding == "identity":
        encoding = None
    uncompressed = headers.get(f"x-goog-meta-{UNCOMPRESSED_SIZE}")
    if encoding == "gzip" and uncompressed and uncompressed.isdigit():
        size = int(uncompressed)  # what read() returns, as size() reports it
    modified = headers.get("Last-Modified")
    return Stat(
        size=size,
        modified=parsedate_to_datetime(modified) if modified else None,
        etag=_hashes(headers).get("md5"),
        content_type=headers.get("Content-Type"),
        content_encoding=encoding,
    )


def _hashes(headers: Any) -> dict[str, str]:
    """``x-goog-hash: crc32c=...,md5=...`` as a dict."""
    found: dict[str, str] = {}
    for part in (headers.get("x-goog-hash") or "").split(","):
        name, _, value = part.strip().partition("=")
        if value:
            found[name] = value
    return found


class DownloadStream(VerifiedStream):
    """The body of a media download, as stored, checked against its CRC32C at the end."""

    algorithm = "CRC32C"

    def __init__(
        self,
        response: Any,
        crc32c: str | None = None,
        name: str = "",
        length: int | None = None,
    ) -> None:
        checksum: Any = None
        if crc32c:
            import google_crc32c

            checksum = google_crc32c.Checksum()  # type: ignore[no-untyped-call]
        super().__init__(
            name=name,
            backend="gcs",
            expected=crc32c,
            hasher=checksum,
            encode=_base64_digest,
            size=length,
        )
        self._response = response
        self._raw = response.raw

    def _fetch(self, size: int) -> bytes:
        return bytes(self._raw.read(size, decode_content=False))

    def _release(self) -> None:
        self._response.close()


def _base64_digest(checksum: Any) -> str:
    """How GCS writes a CRC32C (``x-goog-hash: crc32c=...``)."""
    return base64.b64encode(checksum.digest()).decode("ascii")


def open_download(
    session: Any, url: str, offset: int, name: str, bucket: str, *, timeout: float | None = None
) -> tuple[IO[bytes], Stat | None]:
    """GET the object from ``offset``; return its stream and its stat."""
    headers = {"Accept-Encoding": "gzip"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with gcs_errors("open", name, bucket):
        response = session.request("GET", url, headers=headers, stream=True, timeout=timeout)
        if response.status_code == 416:  # at or past the end: nothing left to read
            response.close()
            return io.BytesIO(b""), None
        try:
            raise_for_response(response)
        except Exception:
            response.close()
            raise
    stat = stat_from_headers(response.headers, offset)
    crc32c = (
        None if offset or response.status_code == 206 else _hashes(response.headers).get("crc32c")
    )
    length = response.headers.get("Content-Length")
    stream = DownloadStream(response, crc32c, name, int(length) if length else None)
    return cast(IO[bytes], stream), stat


class GCSParts(PartTarget):
    """One object's upload, as the requests GCS takes (one instance per upload)."""

    def __init__(
        self,
        blob: Blob,
        session: Any,
        *,
        name: str,
        bucket: str,
        content_type: str,
        predefined_acl: str | None,
        exclusive: bool,
        retry: Any,
        timeout: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.blob, self.session, self.name, self.bucket = blob, session, name, bucket
        self.content_type = content_type
        self.predefined_acl = predefined_acl
        self.exclusive = exclusive
        self.retry = retry
        self.timeout = timeout
        self.rules = gcs_rules()
        self.session_url: str | None = None
        self._offset = 0
        self._tail: Part | None = None  # an unaligned part: the last, sent with the total
        self._crc32c: Any = None  # of the bytes sent so far (chunks go in order)

    def _condition(self) -> dict[str, Any]:
        return {"if_generation_match": 0} if self.exclusive else {}

    def put_single(self, data: bytes | bytearray) -> None:
        """One multipart upload; a gzipped body records its decompressed size for ``size()``."""
        if self.blob.content_encoding == "gzip" and len(data) >= 18:
            metadata = dict(self.blob.metadata or {})
            metadata[UNCOMPRESSED_SIZE] = str(gzip_original_size(data))
            self.blob.metadata = metadata
        with gcs_errors("save", self.name, self.bucket, exclusive=self.exclusive):
            self.blob.upload_from_file(
                io.BytesIO(data),
                size=len(data),
                content_type=self.content_type,
                predefined_acl=self.predefined_acl,
                retry=self.retry,
                timeout=self.timeout,
                **self._condition(),
            )

    def begin(self) -> None:
        import google_crc32c

        self._crc32c = google_crc32c.Checksum()  # type: ignore[no-untyped-call]
        with gcs_errors("save", self.name, self.bucket, exclusive=self.exclusive):
            self.session_url = self.blob.create_resumable_upload_session(
                content_type=self.content_type,
                predefined_acl=self.predefined_acl,
                retry=self.retry,
                timeout=self.timeout,
                **self._condition(),
            )

    def send_part(self, number: int, data: Part) -> int:
        size = len(data)  # type: ignore[arg-type]
        if size % RESUMABLE_ALIGNMENT:
            self._tail = data  # only the last part may be unaligned: it closes the upload
            return size
        if isinstance(data, (bytes, bytearray)):
            self._hash(data)
            self._put(data, size, total=None)
            return size
        body = HashedPart(data, size, self._crc32c)  # a file part: read once, hashed as sent
        self._put(cast(Part, body), size, total=None)  # sent as an iterable
        self._crc32c = body.checksum
        return size

    def commit(self, tokens: list[Any]) -> None:
        """Send the last chunk (or none) with the total size: GCS then stores the object."""
        tail, self._tail = self._tail, None
        size = 0 if tail is None else len(tail)  # type: ignore[arg-type]
        if tail is not None:
            self._hash(tail)
        stored = self._put(tail, size, total=self._offset + size, crc32c=self._digest())
        self.session_url = None
        self._check(stored)

    def _hash(self, data: Part) -> None:
        """Add a chunk to the upload's CRC32C (a file part is read once more, then rewound)."""
        if isinstance(data, bytearray):  # the C checksum takes bytes only: a MiB at a time
            with memoryview(data) as view:
                for start in range(0, len(view), 1024 * 1024):
                    self._crc32c.update(bytes(view[start : start + 1024 * 1024]))
            return
        hash_part(self._crc32c, data)

    def _digest(self) -> str:
        return _base64_digest(self._crc32c)

    def _check(self, response: Any) -> None:
        """GCS refuses a last chunk whose ``X-Goog-Hash`` is not the object's CRC32C; a
        server that stored it anyway (one that ignores the header) is caught here."""
        try:
            stored = response.json().get("crc32c")
        except ValueError:
            return
        if stored and stored != self._digest():
            raise IntegrityError(
                f"GCS stored CRC32C {stored}, the bytes sent have {self._digest()}",
                name=self.name,
                operation="save",
                backend="gcs",
            )

    def _put(
        self, data: Part | None, size: int, total: int | None, crc32c: str | None = None
    ) -> Any:
        """PUT one chunk at the session's offset; a lost answer asks GCS what it kept.
        The last one carries the whole object's CRC32C, which GCS checks before storing."""
        start = self._offset
        span = f"{start}-{start + size - 1}" if size else "*"
        headers = {
            "Content-Range": f"bytes {span}/{'*' if total is None else total}",
            "Content-Length": str(size),
        }
        if crc32c is not None:
            headers["X-Goog-Hash"] = f"crc32c={crc32c}"
        with gcs_errors("save", self.name, self.bucket, exclusive=self.exclusive):
            try:
                response = self._send(data if size and data is not None else b"", headers)
            except _lost_answers() as exc:
                response = self._resume(data, size, total, headers, exc)
            if total is None and response.status_code == 308:
                persisted = _persisted(response)
                if persisted != start + size:
                    raise TransientError(
                        f"GCS kept {persisted} of the {start + size} bytes sent",
                        name=self.name,
                        operation="save",
                        backend="gcs",
                    )
            else:
                raise_for_response(response)
        self._offset = start + size
        return response

    def _send(self, data: Part | bytes, headers: dict[str, str]) -> Any:
        return self.session.request(
            "PUT", self.session_url, data=data, headers=headers, timeout=self.timeout
        )

    def _resume(
        self,
        data: Part | None,
        size: int,
        total: int | None,
        headers: dict[str, str],
        lost: BaseException,
    ) -> Any:
        """The connection dropped around a chunk: ask the session how much it holds (GCS's
        documented status query), then count the chunk as sent, or send it once more."""
        query = {
            "Content-Range": f"bytes */{'*' if total is None else total}",
            "Content-Length": "0",
        }
        status = self._send(b"", query)
        if status.status_code in (200, 201):  # the last chunk arrived: the object is stored
            return status
        if status.status_code != 308:
            raise lost
        persisted = _persisted(status)
        if persisted == self._offset + size:
            return status  # the chunk arrived; only its answer was lost
        if persisted != self._offset or not _rewind(data):
            raise lost
        body = data if size and data is not None else b""
        return self._send(body, headers)  # it did not arrive: send it again

    def abort(self) -> None:
        """Cancel the session (GCS answers 499); the stored file stays as it was."""
        url, self.session_url = self.session_url, None
        if url is None:
            return
        # Best effort: an abandoned session expires by itself within a week.
        with contextlib.suppress(Exception):
            self.session.request(
                "DELETE", url, headers={"Content-Length": "0"}, timeout=self.timeout
            )


class HashedPart:
    """A file part as the blocks requests sends, each added to the upload's CRC32C as it
    goes: the part is read once (hashing it first read it twice: 1 GiB for a 512 MiB file).
    Every sending starts again from the part's start and from the CRC32C before it, so a
    part sent twice (a lost answer) is counted once."""

    BLOCK = 1024 * 1024

    def __init__(self, part: Any, size: int, before: Any) -> None:
        self.part, self.size, self._before = part, size, before
        self.checksum = before.copy()

    def __len__(self) -> int:  # requests sends it with this Content-Length
        return self.size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewound by each sending (``_rewind`` asks)."""
        return 0

    def __iter__(self) -> Iterator[bytes]:
        self.checksum = checksum = self._before.copy()
        self.part.seek(0)
        while block := self.part.read(self.BLOCK):
            checksum.update(block)
            yield block


def _lost_answers() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.ConnectionError, requests.Timeout)


def _persisted(response: Any) -> int:
    """How many bytes a session holds, from a 308's ``Range: bytes=0-N`` (none: 0)."""
    persisted = response.headers.get("Range", "")
    return int(persisted.rpartition("-")[2]) + 1 if persisted.startswith("bytes=0-") else 0


def _rewind(data: Part | None) -> bool:
    """Whether ``data`` can be sent again (bytes can; a file part is sought back)."""
    if data is None or isinstance(data, (bytes, bytearray)):
        return True
    try:
        data.seek(0)
    except (OSError, ValueError):
        return False
    return True
