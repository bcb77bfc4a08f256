"""Dropbox's part of the shared machinery: content hashes, upload sessions, read streams.

The upload engine (parts read as they are sent, bounded memory, abort on any failure,
the streaming writer) is :mod:`storages_base.chunked`; :class:`DropboxParts` is what it
calls: ``files/upload`` for a file of one part, else ``upload_session/start`` with the
first part, ``append_v2`` at the offset so far, and ``finish`` with the commit info.
Every call carries the content hash of its body (the SDK adds it; the server refuses a
mismatch), and the hash of the whole file is compared with the one Dropbox reports.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from typing import Any

from dropbox import files as dbx_files
from urllib3.exceptions import HTTPError as TransportError

from storages_base.chunked import Part, PartRules, PartTarget
from storages_base.errors import IntegrityError
from storages_base.verified import VerifiedStream

from .errors import dropbox_errors

__all__ = ["BLOCK_SIZE", "ContentHasher", "DropboxParts", "ResponseStream", "dropbox_rules"]

logger = logging.getLogger(__name__)

#: Dropbox hashes content in blocks of 4 MiB; session parts are multiples of it.
BLOCK_SIZE = 4 * 1024 * 1024
#: One upload call takes at most 150 MiB: the largest multiple of 4 MiB below it.
MAX_PART_SIZE = 148 * 1024 * 1024


def dropbox_rules() -> PartRules:
    """Upload sessions take their bytes in order, in multiples of 4 MiB."""
    return PartRules(
        min_size=BLOCK_SIZE, max_size=MAX_PART_SIZE, alignment=BLOCK_SIZE, max_in_flight=1
    )


class ContentHasher:
    """Dropbox's content hash, fed in pieces of any size (SHA-256 of 4 MiB block hashes)."""

    def __init__(self) -> None:
        self._overall = hashlib.sha256()
        self._block = hashlib.sha256()
        self._filled = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), BLOCK_SIZE - self._filled)
            self._block.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == BLOCK_SIZE:
                self._overall.update(self._block.digest())
                self._block, self._filled = hashlib.sha256(), 0

    def hexdigest(self) -> str:
        overall = self._overall.copy()
        if self._filled:
            overall.update(self._block.digest())
        return overall.hexdigest()


def _as_bytes(data: Part) -> bytes:
    """The SDK sends ``bytes`` only (it refuses streams so it can retry them)."""
    if isinstance(data, io.RawIOBase):
        return data.read() or b""
    return bytes(data)


class DropboxParts(PartTarget):
    """One file's upload, as the calls Dropbox takes (one instance per upload)."""

    def __init__(
        self,
        client: Any,
        path: str,
        mode: dbx_files.WriteMode,
        *,
        name: str,
        exclusive: bool,
        on_mismatch: Callable[[str], None],
    ) -> None:
        self.client, self.path, self.mode, self.name = client, path, mode, name
        self.exclusive = exclusive
        self.on_mismatch = on_mismatch  # removes a file stored with the wrong bytes
        self.rules = dropbox_rules()
        self.session_id: str | None = None
        self.offset = 0
        self.hasher = ContentHasher()

    def _errors(self) -> Any:
        return dropbox_errors("save", self.name, exclusive=self.exclusive)

    def put_single(self, data: bytes | bytearray) -> None:
        body = bytes(data)
        self.hasher.update(body)
        with self._errors():
            stored = self.client.files_upload(body, self.path, mode=self.mode, autorename=False)
        self._check(stored)

    def begin(self) -> None:
        """Nothing to send yet: the session starts with the first part's bytes."""

    def send_part(self, number: int, data: Part) -> int:
        body = _as_bytes(data)
        self.hasher.update(body)
        with self._errors():
            if self.session_id is None:
                self.session_id = self.client.files_upload_session_start(body).session_id
            else:
                self._append(body)
        self.offset += len(body)
        return self.offset

    def _append(self, body: bytes) -> None:
        cursor = dbx_files.UploadSessionCursor(self.session_id, self.offset)
        try:
            self.client.files_upload_session_append_v2(body, cursor)
        except Exception as exc:
            # A resent append (its first answer lost) finds its bytes already there.
            lookup = getattr(getattr(exc, "error", None), "get_incorrect_offset", None)
            if lookup is None or not exc.error.is_incorrect_offset():  # type: ignore[attr-defined]
                raise
            if lookup().correct_offset != self.offset + len(body):
                raise

    def commit(self, tokens: list[Any]) -> None:
        cursor = dbx_files.UploadSessionCursor(self.session_id, self.offset)
        commit = dbx_files.CommitInfo(self.path, mode=self.mode, autorename=False)
        with self._errors():
            stored = self.client.files_upload_session_finish(b"", cursor, commit)
        self.session_id = None
        self._check(stored)

    def abort(self) -> None:
        """Nothing to delete: an unfinished session commits nothing and expires (7 days)."""
        if self.session_id is not None:
            logger.info("Abandoned Dropbox upload session for %s", self.name)
        self.session_id = None

    def _check(self, stored: Any) -> None:
        expected = self.hasher.hexdigest()
        if getattr(stored, "content_hash", None) not in (None, expected):
            self.on_mismatch(stored.path_display or self.path)
            raise IntegrityError(
                "Dropbox stored other bytes than were sent (content hash mismatch)",
                name=self.name,
                operation="save",
                backend="dropbox",
            )


class ResponseStream(VerifiedStream):
    """A download's body as a stream: read as it arrives, the connection released on close.

    A download of the whole file is checked against the ``content_hash`` Dropbox sent with
    it: bytes that differ raise :class:`~storages_base.IntegrityError` at the end.
    """

    algorithm = "content hash"

    def __init__(
        self,
        response: Any,
        content_hash: str | None = None,
        size: int | None = None,
        name: str = "",
    ) -> None:
        expected = content_hash if size is not None else None
        super().__init__(
            name=name,
            backend="dropbox",
            expected=expected,
            hasher=ContentHasher() if expected else None,
            size=size,
        )
        self._response = response
        self._raw = response.raw

    def _fetch(self, size: int) -> bytes:
        try:
            data = bytes(self._raw.read(size))
        except (OSError, TransportError):
            # The connection broke mid-body (reset, a TLS record refused, a timeout): end
            # here. The reader knows the file's size, so it asks again from this offset (a
            # ranged download) or raises.
            data = b""
        if not data and self._seen < (self._size or 0):
            self.stop_checking()  # the rest comes from another request: nothing to check
        return data

    def _release(self) -> None:
        self._response.close()
