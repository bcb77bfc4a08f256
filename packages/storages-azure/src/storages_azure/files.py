"""Azure's part of chunked uploads: a block blob is staged blocks and one commit.

The engine (parts read as they are sent, ``upload_max_conn`` in flight, bounded memory,
the streaming writer) is :mod:`storages_base.chunked`; :class:`BlockBlobParts` is what
it calls: ``Put Blob`` for a file of one part, else ``Put Block`` per part and
``Put Block List`` to commit, with ``If-None-Match: *`` when the write is create-only.
Staged blocks that are never committed are not a blob: an interrupted upload leaves
nothing visible, and Azure drops the blocks after a week. Block ids carry the write's
token, so two uploads of one name at once never commit each other's blocks.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from storages_base.chunked import Part, PartRules, PartTarget, part_md5
from storages_base.content import gzip_original_size
from storages_base.errors import IntegrityError
from storages_base.fileparts import PartView
from storages_base.readahead import ReadAhead

from .errors import azure_errors

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, ContentSettings

__all__ = [
    "MAX_BLOCKS",
    "MAX_BLOCK_SIZE",
    "MAX_RANGE_MD5",
    "UNCOMPRESSED_SIZE",
    "WRITE_TOKEN",
    "BlockBlobParts",
    "DownloadStream",
    "check_range",
    "checked_when_read",
]

#: Azure's limits for block blobs: 50,000 blocks of up to 4000 MiB.
MAX_BLOCKS = 50_000
MAX_BLOCK_SIZE = 4000 * 1024 * 1024
#: Azure sends the MD5 of a range it is asked for of up to this size (our reads' size).
MAX_RANGE_MD5 = 4 * 1024 * 1024
#: Metadata holding a gzipped blob's decompressed size (what read() returns).
UNCOMPRESSED_SIZE = "uncompressed_size"
#: Metadata holding the token of a create-only write (``AzureStorage._is_own_write``).
WRITE_TOKEN = "storages_write"


class BlockBlobParts(PartTarget):
    """One blob's upload, as the requests Azure takes (one instance per upload)."""

    rules = PartRules(max_size=MAX_BLOCK_SIZE, max_parts=MAX_BLOCKS)

    def __init__(
        self,
        blob: BlobClient,
        settings: ContentSettings,
        metadata: dict[str, str],
        *,
        name: str,
        container: str,
        token: str,
        exclusive: bool = False,
        timeout: int | None = None,
        on_send: Callable[[Any], None] | None = None,
    ) -> None:
        self.blob, self.settings, self.metadata = blob, settings, metadata
        #: Called at each sending of the request that creates the blob, the SDK's retries
        #: included: how ``_is_own_write`` knows a write was sent again.
        self.on_send = on_send
        self.name, self.container = name, container
        self.token = token[:32]
        self.exclusive = exclusive
        self.timeout = timeout
        #: Each part's MD5 by number, computed by ``prepare`` while earlier parts are sent.
        self._digests: dict[int, bytes] = {}
        #: A part on disk read by ``prepare``, by number: sent from the bytes it hashed.
        self._bodies: dict[int, bytes] = {}

    def _hooks(self) -> dict[str, Any]:
        """The SDK's hooks: one for the first sending, one for each retry."""
        on_send = self.on_send
        if on_send is None:
            return {}
        return {
            "raw_request_hook": lambda request: on_send(request),
            "retry_hook": lambda **details: on_send(None),
        }

    def _conditions(self) -> dict[str, Any]:
        hooks = self._hooks()
        if not self.exclusive:
            return hooks
        from azure.core import MatchConditions

        return {"match_condition": MatchConditions.IfMissing, **hooks}

    def put_single(self, data: bytes | bytearray) -> None:
        """One ``Put Blob`` with its MD5 (Azure checks it and stores it)."""
        metadata = self.metadata
        if self.settings.content_encoding == "gzip" and len(data) >= 18:
            metadata = {**metadata, UNCOMPRESSED_SIZE: str(gzip_original_size(data))}
        with azure_errors("save", self.name, self.container, exclusive=self.exclusive):
            self.blob.upload_blob(
                bytes(data) if isinstance(data, bytearray) else data,
                length=len(data),
                overwrite=not self.exclusive,
                content_settings=self.settings,
                metadata=metadata or None,
                validate_content=True,
                max_concurrency=1,
                timeout=self.timeout,
                **self._hooks(),
            )

    def begin(self) -> None:
        """Nothing to start: blocks are staged against the blob's name."""

    def block_id(self, number: int) -> str:
        """Block ids of one blob must all have the same length (the SDK base64-encodes
        them); this write's token keeps another upload of the same name from committing
        our blocks."""
        return f"{self.token}-{number:06d}"

    def prepare(self, number: int, data: Part) -> None:
        """The block's MD5, hashed by the engine's caller while the blocks in flight are
        sent (hashing in the sending thread would leave its connection idle meanwhile).

        A part on disk is read here once, hashed and later sent from those same bytes:
        read to hash and read again to send, it cost a second copy of every byte and
        http.client's 16 KiB reads (memory: the parts in flight and this one)."""
        if not isinstance(data, (bytes, bytearray)):
            data = self._bodies[number] = _read_all(data)
        self._digests[number] = part_md5(data)

    def send_part(self, number: int, data: Part) -> str:
        """``Put Block`` with the block's MD5, which Azure checks; a part in memory is
        sent from where it lies (the SDK would copy a bytearray to hash it)."""
        block_id = self.block_id(number)
        body: Any = self._bodies.pop(number, None)
        if body is None:
            body = MemoryPart(data) if isinstance(data, (bytes, bytearray)) else data
        length = len(body)
        digest = self._digests.pop(number, None) or part_md5(body)
        with azure_errors("save", self.name, self.container):
            self.blob.stage_block(
                block_id,
                body,
                length=length,
                transactional_content_md5=digest,
                timeout=self.timeout,
            )
        return block_id

    def commit(self, tokens: list[Any]) -> None:
        """``Put Block List``: the blocks become the blob, all at once."""
        from azure.storage.blob import BlobBlock

        with azure_errors("save", self.name, self.container, exclusive=self.exclusive):
            self.blob.commit_block_list(
                [BlobBlock(block_id) for block_id in tokens],
                content_settings=self.settings,
                metadata=self.metadata or None,
                timeout=self.timeout,
                **self._conditions(),
            )

    def abort(self) -> None:
        """Nothing to drop: uncommitted blocks are never a blob and expire on their own."""


def _read_all(part: Any) -> bytes:
    """A part on disk as one ``bytes`` (the SDK sends bytes in one write, and retries
    them as they are), read from its start."""
    part.seek(0)
    length = len(part)
    chunks: list[bytes] = []
    got = 0
    while got < length and (more := part.read(length - got)):  # pread may return less
        chunks.append(more)
        got += len(more)
    part.seek(0)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class MemoryPart(PartView):
    """A part in memory as a seekable stream over its buffer: sent without a copy, and
    rewound by the SDK for a retry."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        super().__init__(len(self._view))

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._position : self._position + len(memoryview(buffer))]
        memoryview(buffer).cast("B")[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def close(self) -> None:
        self._view.release()
        super().close()


def check_range(name: str, start: int, chunk: bytes, headers: Any) -> bytes:
    """``chunk``, the range of ``name`` from ``start``, if it has the MD5 Azure sent with
    it (``Content-MD5``; a range sent without one is taken as it is), else
    :class:`IntegrityError`: none of its bytes is handed out."""
    expected = headers.get("Content-MD5")
    if not expected:
        return chunk
    got = base64.b64encode(hashlib.md5(chunk, usedforsecurity=False).digest()).decode()
    if got != expected:
        raise IntegrityError(
            f"the {len(chunk)} bytes read from Azure at offset {start} have MD5 {got}, "
            f"Azure sent them as {expected}: nothing of them was returned",
            name=name,
            operation="read",
            backend="azure",
        )
    return chunk


def checked_when_read(name: str, start: int, chunk: bytes, headers: Any) -> Iterator[bytes]:
    """``chunk`` checked (:func:`check_range`) when it is first asked for: a corrupted
    first range fails the read, not the open."""
    yield check_range(name, start, chunk, headers)


_EMPTY = memoryview(b"")


class DownloadStream(io.RawIOBase):
    """A blob download, as checked chunks, as the raw stream storages-base reads.

    ``chunks`` is the chunk the first GET brought, then the ones after it fetched as the
    reader gets there (one range of 4 MiB in use at a time whatever the blob's size);
    from the second chunk on the next one is fetched and checked in a thread while this
    one is handed out
    (:class:`~storages_base.readahead.ReadAhead`: the same GETs, one after the other,
    but Azure sends a range while the client checks the last one). Closing it stops
    fetching.
    """

    def __init__(self, chunks: Iterator[bytes]):
        super().__init__()
        self._chunks: ReadAhead[bytes] | None = ReadAhead(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None) if self._chunks is not None else None
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        # an empty slice would keep the whole chunk alive while the next one is fetched
        self._pending = self._pending[count:] if count < len(self._pending) else _EMPTY
        return count

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()
        self._chunks = None
        self._pending = memoryview(b"")
        super().close()
