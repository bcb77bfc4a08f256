"""``LibCloudStorage``: any Apache Libcloud storage driver as a Django storage.

Thin on purpose: names, location, the overwrite policy, content types and file objects
come from :class:`storages_base.BaseStorage`; this class maps its key-level hooks onto
libcloud driver calls. Reads stream (``download_object_as_stream``, ranged where the
driver has ranges), writes stream (``upload_object_via_stream``, a chunk at a time),
``listdir`` asks the driver for the folder's prefix only, and every thread gets its own
driver (libcloud's connections are not thread-safe).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import IO, Any, ClassVar, cast

from storages_base import (
    AlreadyExistsError,
    BaseStorage,
    Capabilities,
    Stat,
    WriteRequest,
    client_property,
)
from storages_base.errors import TransientError
from storages_base.files import CHUNK_SIZE
from storages_base.remote import is_temporary_name, temporary_name

from .client import Drivers, ProviderConfig, provider_config
from .errors import libcloud_errors
from .files import ChunkStream, LibCloudFile, chunks_of
from .options import LIBCLOUD_OPTIONS
from .urls import object_url, signs_urls

__all__ = ["LibCloudStorage"]

#: LOCAL keeps its lock and hash folders inside the container.
_LOCAL_HIDDEN = (".lock", ".hash")


class LibCloudStorage(BaseStorage):
    """Files in one container of a libcloud provider (``storages_libcloud.LibCloudStorage``).

    ``LibCloudStorage('amazon_1')`` uses ``LIBCLOUD_PROVIDERS['amazon_1']``; without a
    name, ``DEFAULT_LIBCLOUD_PROVIDER`` (default ``'default'``).
    """

    backend_name = "libcloud"
    file_class = LibCloudFile
    options = LIBCLOUD_OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities()  # per driver: see configure()

    providers: dict[str, Any]
    provider_name: str
    base_url: str | None
    url_expire: int
    config: ProviderConfig
    #: Objects the driver returned to ``listdir`` so far (what a listing costs).
    objects_listed: int = 0

    def __init__(self, provider_name: str | None = None, option: Any = None, **kwargs: Any):
        # ``option`` is django-storages' unused second argument, kept for its callers.
        if provider_name is not None:
            kwargs["provider_name"] = provider_name
        super().__init__(**kwargs)

    def configure(self) -> None:
        super().configure()
        self.config = provider_config(self.providers, self.provider_name)
        self.url_expire = int(self.url_expire)
        driver = self.drivers.driver  # refuses a driver that cannot be built, now
        # What the suite and the file objects read depends on the driver, not the class.
        setattr(self, "capabilities", _capabilities_of(driver, self.config.type))  # noqa: B010
        if self.config.type == "local":  # a folder on a file system: NAME_MAX per part
            setattr(self, "max_name_part_length", 255)  # noqa: B010

    drivers = client_property(lambda self: Drivers(self.config))
    _listed_lock = client_property(lambda self: threading.Lock())

    @property
    def driver(self) -> Any:
        """This thread's libcloud driver (``store.driver.create_container('bucket-1')``)."""
        return self.drivers.driver

    @property
    def bucket(self) -> str:
        return self.config.bucket

    def _errors(self, operation: str, key: str | None) -> AbstractContextManager[None]:
        name = None if key is None else self._name_for_key(key)
        return libcloud_errors(operation, name, self.config.bucket, self.config.name)

    # -- reading -------------------------------------------------------------------------

    def _get(self, key: str, operation: str) -> Any:
        with self._errors(operation, key):
            return self.driver.get_object(self.config.bucket, key)

    def _stat(self, key: str) -> Stat:
        return _stat_of(self._get(key, "stat"))

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        """The object's metadata, then its bytes from ``offset`` as a stream."""
        if self.config.type == "local":
            return self._read_local(key, offset)
        obj = self._get(key, "open")
        stat = _stat_of(obj)
        if offset and offset >= stat.size:
            return io.BytesIO(b""), stat
        driver = self.driver
        with self._errors("open", key):
            if offset and self.capabilities.ranged_reads:
                chunks = driver.download_object_range_as_stream(obj, offset, chunk_size=CHUNK_SIZE)
            else:
                chunks = driver.download_object_as_stream(obj, chunk_size=CHUNK_SIZE)
        # A whole download is checked against the MD5 the provider states for the bytes
        # (Azure's Content-MD5). An S3 ETag is not one for multipart or KMS-encrypted
        # objects, so S3 reads are not checked (libcloud gives no other checksum).
        md5 = None if offset else (obj.extra or {}).get("md5_hash")
        name = self._name_for_key(key)
        stream = ChunkStream(
            iter(chunks), lambda: self._errors("open", key), md5, name, size=stat.size
        )
        return cast(IO[bytes], stream), stat

    def _read_local(self, key: str, offset: int) -> tuple[IO[bytes], Stat | None]:
        """LOCAL: the file is opened first and described after, and the description is
        kept only if the path still names the file opened. A save renames a new file into
        place at any moment (``_upload``); libcloud's own download opens the path after
        describing it, so the size of one version framed the bytes of another."""
        path = self._local_path(key)
        for _attempt in range(5):
            try:
                handle = open(path, "rb")  # noqa: SIM115  # closed by the stream
            except OSError:
                self._get(key, "open")  # a missing file: the common NotFoundError
                continue  # it appeared meanwhile
            try:
                obj = self._get(key, "open")
                same = _inode(path) == os.fstat(handle.fileno()).st_ino
            except BaseException:
                handle.close()
                raise
            if not same:
                handle.close()
                continue
            stat = _stat_of(obj)
            handle.seek(offset)
            md5 = None if offset else (obj.extra or {}).get("md5_hash")
            stream = ChunkStream(
                _chunks_closing(handle),
                lambda: self._errors("open", key),
                md5,
                self._name_for_key(key),
                size=stat.size,
            )
            return cast(IO[bytes], stream), stat
        raise TransientError(
            "the file was replaced at each of 5 attempts to open it",
            name=self._name_for_key(key),
            operation="open",
            backend=self.backend_name,
        )

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """Ask the driver for the objects under ``prefix`` only (LOCAL: one folder read)."""
        if self.config.type == "local":
            return self._list_local(prefix)
        folders: set[str] = set()
        files: list[str] = []
        listed = 0
        with self._errors("listdir", prefix):
            objects = self.driver.iterate_container_objects(
                self.drivers.container(), prefix=prefix or None
            )
            for obj in objects:
                listed += 1
                rest = obj.name[len(prefix) :]
                head, slash, _tail = rest.partition("/")
                if slash:
                    folders.add(head)  # a folder holding only folders is found too
                elif rest:
                    files.append(rest)
        self._count_listed(listed)
        return sorted(folders), files

    def _list_local(self, prefix: str) -> tuple[list[str], list[str]]:
        # libcloud's LOCAL driver walks the whole container for any prefix; its
        # container is a folder, so read the one folder asked for instead.
        with self._errors("listdir", prefix):
            root = self.driver.get_container_cdn_url(self.drivers.container(), check=True)
            path = os.path.join(root, *prefix.strip("/").split("/")) if prefix else root
            try:
                entries = list(os.scandir(path))
            except (FileNotFoundError, NotADirectoryError):
                return [], []
        folders = [e.name for e in entries if e.is_dir() and e.name not in _LOCAL_HIDDEN]
        files = [e.name for e in entries if e.is_file() and not is_temporary_name(e.name)]
        self._count_listed(len(entries))
        return folders, files

    def _count_listed(self, count: int) -> None:
        with self._listed_lock:
            self.objects_listed += count

    # -- writing -------------------------------------------------------------------------

    def _write(self, request: WriteRequest) -> None:
        """Upload a chunk at a time; no-overwrite checks the name just before (libcloud
        has no create-only write), under the name's lock from the check to the end of the
        upload, so two threads of this storage never take one name."""
        if request.exclusive:
            with self._create_locks.hold(request.key):
                self._write_checked(request)
        else:
            self._upload(request)

    def _write_checked(self, request: WriteRequest) -> None:
        if self._exists(request.key):
            raise AlreadyExistsError(
                "File exists",
                name=self._name_for_key(request.key),
                operation="save",
                backend=self.backend_name,
            )
        self._upload(request)

    def _upload(self, request: WriteRequest) -> None:
        headers = {}
        if request.content_encoding:
            headers["Content-Encoding"] = request.content_encoding
        extra = {"content_type": request.content_type}
        if request.parameters.get("meta_data"):
            extra["meta_data"] = request.parameters["meta_data"]
        local = self.config.type == "local"
        # LOCAL writes into the file itself: a failed upload would leave it truncated.
        # Write beside it and rename into place (S3 and Azure commit only at the end).
        target = temporary_name(request.key) if local else request.key
        with self._errors("save", request.key):
            for attempt in range(1, LOCAL_FOLDER_ATTEMPTS + 1):
                chunks = _Started(chunks_of(request.content))
                try:
                    self.driver.upload_object_via_stream(
                        chunks,
                        self.drivers.container(),
                        target,
                        extra=extra,
                        headers=headers or None,
                    )
                    if local:
                        os.replace(self._local_path(target), self._local_path(request.key))
                    return
                except BaseException as exc:
                    if local:
                        with contextlib.suppress(OSError):
                            os.unlink(self._local_path(target))
                    # LOCAL: a delete in this folder's tree removes the folders it empties,
                    # and libcloud's makedirs ignores a parent removed under it; its open()
                    # then finds no folder. Nothing was read from the content yet: again.
                    vanished = local and isinstance(exc, FileNotFoundError) and not chunks.started
                    if not vanished or attempt == LOCAL_FOLDER_ATTEMPTS:
                        raise

    def _local_path(self, key: str) -> str:
        root = self.driver.get_container_cdn_url(self.drivers.container())
        return str(os.path.join(root, *key.split("/")))

    def _delete(self, key: str) -> None:
        with self._errors("delete", key):
            self.driver.delete_object(self.drivers.object(key))

    # -- URLs ----------------------------------------------------------------------------

    def url(self, name: str | None, expire: int | None = None) -> str:
        """Return the URL of ``name`` with no request (see :mod:`storages_libcloud.urls`);
        ``expire`` is the lifetime of a signed URL in seconds."""
        return self._object_url(self._key(name or ""), expire)

    def _object_url(self, key: str, expire: int | None = None) -> str:
        return object_url(self, key, expire)


#: Uploads to LOCAL whose folder a concurrent delete removed before a byte was written.
LOCAL_FOLDER_ATTEMPTS = 3


class _Started:
    """An iterator that records whether anything asked it for a chunk yet."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.started = False

    def __iter__(self) -> _Started:
        return self

    def __next__(self) -> bytes:
        self.started = True
        return next(self.chunks)


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _chunks_closing(handle: IO[bytes]) -> Iterator[bytes]:
    """``handle`` a chunk at a time, closed at its end or when the generator is closed."""
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _capabilities_of(driver: Any, provider_type: str) -> Capabilities:
    """What this driver can do, for the conformance suite and the file objects."""
    from libcloud.storage.base import StorageDriver

    signed = signs_urls(driver)
    ranged = (
        provider_type != "local"  # LOCAL's ranged download reads the whole file first
        and type(driver).download_object_range_as_stream
        is not StorageDriver.download_object_range_as_stream
    )
    return Capabilities(ranged_reads=ranged, signed_urls=signed, http_urls=signed)


def _stat_of(obj: Any) -> Stat:
    extra = obj.extra or {}
    return Stat(
        size=int(obj.size or 0),
        modified=_modified(extra),
        etag=obj.hash,
        content_type=extra.get("content_type"),
        content_encoding=extra.get("content_encoding"),
    )


def _modified(extra: dict[str, Any]) -> datetime | None:
    """The modification time libcloud reports: a float (LOCAL), an HTTP date (HEAD),
    or an ISO 8601 time (listings)."""
    value = extra.get("modify_time", extra.get("last_modified"))
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
