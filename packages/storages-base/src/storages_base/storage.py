"""``BaseStorage``: the Django Storage API, written once for every backend.

A provider subclasses it, declares its :class:`~storages_base.options.Options` table
and :class:`Capabilities`, and implements a handful of key-level hooks (``_read``,
``_write``, ``_stat``, ``_delete``, ``_list``, ``_object_url``). Everything a user sees
(name rules, location, overwrite policy, content type, gzip, file objects, times,
pickling, ``repr`` and ``deconstruct`` without secrets) is decided here.

The hooks' names cannot collide with Django's or a mixin's (``HashedFilesMixin`` has
a ``_url`` of its own), and every public or overridable method takes exactly what
Django's ``Storage`` passes: a subclass overriding ``_save(self, name, content)``
works as it does on Django's own storages.
"""

from __future__ import annotations

import hashlib
import io
import sys
import unicodedata
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils import timezone as dj_timezone

from . import names, serializers
from .batch import BatchUploads, batches_open
from .clients import KeyLocks, client_property, drop_unpicklable
from .content import (
    DEFAULT_CONTENT_TYPE,
    GZIP_CONTENT_TYPES,
    GzipCompressor,
    guess_content_type,
    known_size,
    rewindable,
    should_gzip,
)
from .errors import AlreadyExistsError, NotFoundError
from .files import CHUNK_SIZE, BinaryReader, Stat, StorageFile, spooled_file
from .options import Option, Options
from .preload import UNKNOWN, MetadataPreload
from .serializers import Rebuilders

__all__ = ["BASE_OPTIONS", "GZIP_OPTIONS", "BaseStorage", "Capabilities", "WriteRequest"]

#: Options every backend has; a provider re-declares them with its own setting names.
BASE_OPTIONS = Options(
    Option("location", None, "", "Prefix under which every name is stored."),
    Option(
        "file_overwrite",
        None,
        True,
        "Save over an existing file of the same name (False: pick a free name, atomically "
        "where the server has conditional writes).",
    ),
    Option(
        "max_memory_size",
        None,
        2 * 1024 * 1024,
        "Bytes a file being written keeps in memory before it spills to a "
        "temporary file in `FILE_UPLOAD_TEMP_DIR` (0 keeps the default bound).",
        doc_default="`2097152` (2 MiB)",
    ),
)

#: The gzip options of the backends that compress (S3, GCS).
GZIP_OPTIONS = (
    Option("gzip", None, False, "Gzip files whose content type is in `gzip_content_types`."),
    Option(
        "gzip_content_types",
        "GZIP_CONTENT_TYPES",
        GZIP_CONTENT_TYPES,
        "Content types compressed when `gzip` is on.",
    ),
)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the core API; the conformance suite reads these."""

    conditional_create: bool = False  # atomic create-only write (no-overwrite is race-free)
    ranged_reads: bool = True  # a read can start at any offset without reading the start
    created_time: bool = False
    accessed_time: bool = False
    signed_urls: bool = False  # url() grants access to a private file for a while
    http_urls: bool = False  # url() can be fetched over HTTP in tests
    empty_folders: bool = False  # folders exist on their own (file servers)
    #: A create-only write sent again after its response was lost is recognised as its
    #: own (``_is_own_write``): ``save()`` keeps the name instead of storing a copy.
    idempotent_create: bool = False


@dataclass
class WriteRequest:
    """Everything a backend's ``_write`` needs to store one file."""

    key: str
    content: IO[bytes]
    content_type: str
    content_encoding: str | None = None
    size: int | None = None  # None when unknown (streamed, compressed)
    exclusive: bool = False  # fail with AlreadyExistsError if the key exists
    parameters: dict[str, Any] = field(default_factory=dict)
    #: The content as given, when ``content`` is its bytes unchanged and of known size
    #: (not text, not gzipped): a file on disk can then be read where it lies (fileparts).
    source: Any = None
    #: A writer's request (``open(name, "wb")``, no content yet): gzip what is written,
    #: as ``save()`` has already done to ``content``. Decided here once, for both.
    compress: bool = False
    #: Unique to this write: a backend may store or send it (metadata, a temporary
    #: name) to recognise the write as its own after a retry (``_is_own_write``).
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The MD5 (hex) of the bytes sent in one piece, where the backend computed it: the
    #: ETag S3 gives an object stored by one PutObject (``_is_own_write``).
    sent_md5: str | None = None
    #: How many times the backend began sending this write: a backend that resends it
    #: itself (a retry after a dropped connection) counts, for ``_is_own_write``.
    attempts: int = 0


class BaseStorage(BatchUploads, Storage):
    """The shared half of every backend; see the module docstring.

    Not ``@deconstructible``: that decorator would replace :meth:`deconstruct`, which
    must leave secrets out, so the constructor arguments are captured here instead.
    """

    options: ClassVar[Options] = BASE_OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: Short name used in errors and logs ("s3", "ftp", ...).
    backend_name: ClassVar[str] = "storage"
    #: The longest key the provider accepts (location included).
    max_key_length: ClassVar[int | None] = 1024
    #: The longest folder or file name, in bytes (a file system's NAME_MAX); None: no limit.
    max_name_part_length: ClassVar[int | None] = None
    default_content_type: ClassVar[str] = DEFAULT_CONTENT_TYPE
    #: Answer exists() and modified times from one listing of the location (``_scan``);
    #: for storages written by one deploy step, such as static files (see preload.py).
    preload_metadata: ClassVar[bool] = False
    preload_metadata_max_age: ClassVar[float] = 300.0
    #: What ``open()`` returns (a provider's subclass adds its SDK object, S3's ``obj``).
    file_class: ClassVar[type[StorageFile]] = StorageFile
    #: Option values migrations cannot write by themselves, by their type's dotted name:
    #: how to rebuild one (see serializers.py; S3's botocore ``Config``).
    rebuilt_in_migrations: ClassVar[Rebuilders] = {}

    # Values resolved from ``options``; declared, never assigned here, so that a
    # subclass attribute of the same name is recognised as the user's choice.
    location: str
    file_overwrite: bool
    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]
    max_memory_size: int
    #: Required options left unset (``AT_FIRST_USE``): every operation refuses to run.
    _unconfigured: tuple[str, ...] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> BaseStorage:
        obj = super().__new__(cls)
        obj._constructor_args = (args, kwargs)  # what deconstruct() returns
        return obj

    def __init__(self, **kwargs: Any) -> None:
        self._init_kwargs = kwargs
        values = self.options.resolve(type(self), kwargs)
        self.options.check_construction(type(self), values)  # the table's rules, once
        for name, value in values.items():
            setattr(self, name, value)
        self.configure()
        self._unconfigured = self.options.missing_at_first_use(vars(self))

    def get_default_settings(self) -> dict[str, Any]:
        """Each option's value from Django settings, the environment or its default (what
        this storage would use without constructor OPTIONS or class attributes): the
        method of django-storages' storages that user code calls."""
        return {item.name: item.from_settings() for item in self.options if not item.setting_only}

    def configure(self) -> None:
        """Check and normalise the resolved options (raise ImproperlyConfigured)."""
        location = str(getattr(self, "location", "") or "")
        if location.startswith("/"):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: location {location!r} must not start with '/'."
            )
        cleaned = names.clean_name(location).strip("/")
        if (
            cleaned == ".."
            or cleaned.startswith("../")
            or any(unicodedata.category(char) == "Cc" for char in cleaned)
        ):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: location {location!r} must stay inside the root "
                "and hold no control characters."
            )
        self.location = cleaned

    # -- provider hooks ------------------------------------------------------------------

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        """Return a stream of the file from ``offset`` and, if known, its stat."""
        raise NotImplementedError

    def _write(self, request: WriteRequest) -> None:
        """Store ``request.content`` at ``request.key``; honour ``request.exclusive``."""
        raise NotImplementedError

    def _stat(self, key: str) -> Stat:
        """Return the file's metadata; raise NotFoundError when it does not exist."""
        raise NotImplementedError

    def _delete(self, key: str) -> None:
        """Delete the file; a missing one may return or raise ``NotFoundError``."""
        raise NotImplementedError

    def _delete_quietly(self, key: str) -> None:
        """``_delete``, a missing file being no error (Django's ``delete()`` of a missing
        name is quiet): each SDK says 404 its own way, each provider translates it to
        ``NotFoundError``, and it is swallowed here once."""
        try:
            self._delete(key)
        except FileNotFoundError:  # not contextlib.suppress: three calls fewer per delete()
            return

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """Return (folders, files) directly under ``prefix`` (ends with "/" or is "")."""
        raise NotImplementedError

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        """Return the URL of ``key``; ``url()``'s extra arguments are passed on.

        Not ``_url``: Django's ``HashedFilesMixin`` has a ``_url`` of another meaning.
        """
        raise NotImplementedError(f"{type(self).__name__} has no URLs.")

    def _is_own_write(self, request: WriteRequest, error: AlreadyExistsError) -> bool:
        """Whether the clash ``error`` of the create-only write ``request`` is that very
        write, stored by the server, whose response was lost and which was sent again (an
        SDK's or a pool's retry). Then the file is ours and ``save()`` keeps its name
        instead of storing a second copy under another one.

        Answer from evidence only (``request.token`` stored with the file, the ETag of
        ``request.sent_md5`` after a retry): a wrong True gives two saves one file.
        The default needs the backend to count ``request.attempts``: after a resend, the
        stored file is read back and must hold exactly the bytes sent (this path only).
        """
        return request.attempts > 1 and self._holds_exactly(request)

    def _holds_exactly(self, request: WriteRequest) -> bool:
        """Whether the file at ``request.key`` holds exactly the bytes ``request`` sends."""
        content = request.content
        if not rewindable(content):
            return False
        content.seek(0)
        sent, stored = hashlib.md5(usedforsecurity=False), hashlib.md5(usedforsecurity=False)
        while chunk := content.read(CHUNK_SIZE):
            sent.update(chunk)
        try:
            stream, _stat = self._read(request.key, 0)
        except FileNotFoundError:
            return False
        with stream:
            while chunk := stream.read(CHUNK_SIZE):
                stored.update(chunk)
        return sent.digest() == stored.digest()

    def _open_writer(self, request: WriteRequest) -> IO[bytes]:
        """Return where ``open(name, "w")`` writes; the default spools and stores on close.

        A backend that streams uploads returns a writer with ``commit()`` instead, built
        from ``request`` (:meth:`_write_request` with no content): the content type,
        encoding, parameters, ``exclusive`` and ``compress`` that ``save()`` would use.
        """
        return self._spool()

    def _scan(self, prefix: str) -> Iterable[tuple[str, Stat]]:
        """Optional: every file under ``prefix`` (ends with "/" or is ""), at any depth,
        as (key, stat), a page of many files per request; enables ``preload_metadata``."""
        raise NotImplementedError

    def _exists(self, key: str) -> bool:
        try:
            self._stat(key)
        except FileNotFoundError:
            return False
        return True

    # -- names ---------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        """The prefix every key starts with (``location`` by default)."""
        return self.location

    def _key(self, name: str) -> str:
        """Return the key for ``name`` under the location; refuse traversal and NUL."""
        return self._resolve(name).key

    def _resolve(self, name: str) -> names.ResolvedName:
        """``name`` cleaned and joined under the location, once (free if already done)."""
        if self._unconfigured:
            self._refuse_unconfigured()
        if name is None:
            raise ValueError("A file name is required.")
        resolved = names.resolve(name, self.key_prefix)
        limit = self.max_name_part_length
        if limit is not None and len(resolved) * 4 > limit:  # 4 bytes a character at most
            names.refuse_long_parts(resolved, limit)
        return resolved

    def _refuse_unconfigured(self) -> None:
        """The first operation of a storage built without a required option raises."""
        missing = [self.options[name] for name in self._unconfigured]
        raise ImproperlyConfigured(
            f"{type(self).__name__}: "
            + "; ".join(f"no {item.name}: set {self.options.where(item)}" for item in missing)
            + "."
        )

    def _name_for_key(self, key: str) -> str:
        prefix = self.key_prefix
        return key[len(prefix) + 1 :] if prefix and key.startswith(prefix + "/") else key

    def get_valid_name(self, name: str) -> str:
        return str(super().get_valid_name(name))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """Return a name free on the storage (Django's contract), or ``name`` itself
        (cleaned, validated, truncated) when ``file_overwrite`` is on.

        A free name costs ``exists()`` requests. ``save()`` skips them where the backend
        has an atomic create-only write (see :meth:`save`), but this public method keeps
        its promise: third-party code calls it, then writes to the name it got.
        """
        return str(self._available_name(name, max_length))

    def _available_name(self, name: str, max_length: int | None) -> str:
        """:meth:`get_available_name`, resolved (a :class:`~.names.ResolvedName`) when
        ``file_overwrite`` makes it the name asked for."""
        resolved = self._candidate_name(name, max_length)
        if self.file_overwrite:
            return resolved
        return str(super().get_available_name(resolved, self._max_name_length(max_length)))

    def _candidate_name(self, name: str, max_length: int | None) -> names.ResolvedName:
        """``name`` cleaned, validated and truncated, traversal refused: no request."""
        resolved = self._resolve(name)  # refuses traversal before any request is made
        names.validate_name(resolved)
        truncated = names.truncate_name(resolved, self._max_name_length(max_length))
        return resolved if truncated == resolved else self._resolve(truncated)

    def _max_name_length(self, max_length: int | None) -> int | None:
        if self.max_key_length is None:
            return max_length
        room = self.max_key_length - (len(self.key_prefix) + 1 if self.key_prefix else 0)
        return room if max_length is None else min(room, max_length)

    # -- the Django Storage API ----------------------------------------------------------

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Save ``content`` under ``name`` (or a free name) and return the name used.

        Django's own ``save()``: ``get_available_name()``, then ``_save(name, content)``.
        With ``file_overwrite`` off, ``_save`` writes create-only and a taken name raises
        :class:`AlreadyExistsError`; the next name is then tried here, where
        ``max_length`` and the name asked for are known (each alternative is derived
        from that name, never from the previous alternative).

        Where the backend's create-only write is atomic (``conditional_create``), the
        write itself finds a taken name: asking ``exists()`` first would cost a request
        and leave a window between the check and the write. So ``get_available_name()``
        is skipped then, but only while it is this class's: a subclass's own (an
        "overwrite" storage that deletes the old file, a naming scheme) is called as
        Django calls it, and so is ours for content that cannot be sent twice.
        """
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        validate_file_name(name, allow_relative_path=True)
        wanted = validated = name  # a name validated once is not validated again (9 us)
        if self._finds_free_names_by_writing(content):
            name = self._candidate_name(name, max_length)
        elif self._overrides_get_available_name():
            name = self.get_available_name(name, max_length=max_length)
        else:
            name = self._available_name(name, max_length)
        for _attempt in range(100):
            if name != validated:
                validated = validate_file_name(name, allow_relative_path=True)
            try:
                name = self._save(name, content)
            except AlreadyExistsError:
                if self.file_overwrite or not rewindable(content):
                    raise  # content that cannot be sent twice was checked first
                name = self._next_name(wanted, name, max_length)
            else:
                if name != validated:
                    validate_file_name(name, allow_relative_path=True)
                return str(name)
        raise AlreadyExistsError(
            "no free name found after 100 attempts", name=name, operation="save"
        )

    def _finds_free_names_by_writing(self, content: Any) -> bool:
        """Whether ``save()`` may leave finding a free name to the create-only write."""
        return (
            not self.file_overwrite
            and self.capabilities.conditional_create
            and rewindable(content)
            and not self._overrides_get_available_name()
        )

    def _overrides_get_available_name(self) -> bool:
        method = getattr(self.get_available_name, "__func__", None)
        return method is not BaseStorage.get_available_name

    def _next_name(self, wanted: str, clashed: str, max_length: int | None) -> str:
        """The name to try after ``clashed`` was taken: a subclass's own
        ``get_available_name`` decides if it has one (and offers another name), else an
        alternative of ``wanted`` by ``get_alternative_name``, as Django's loop makes."""
        if self._overrides_get_available_name():
            name = self.get_available_name(wanted, max_length=max_length)
            if name != clashed:
                return name
        wanted = self._candidate_name(wanted, max_length)
        return names.alternative_name(
            wanted, self._max_name_length(max_length), self.get_alternative_name
        )

    def _open(self, name: str, mode: str = "rb") -> StorageFile:
        resolved = self._resolve(name)
        key, name = resolved.key, str(resolved)
        if not name.strip("/") and not set(mode) & set("wxa+"):
            raise self._not_found(key, "open")  # "", ".", "a/..": the location, not a file
        self._settle(key)
        if set(mode) & set("wxa+"):
            names.validate_name(name)
            self._reading.pop(key, None)  # its reader's stat is of the old file
            if self._preload is not None:
                self._preload.forget(key)
        file = self.file_class(self, name, key, mode)
        if "r" in mode and "+" not in mode:
            self._reading[key] = file
        return file

    def _save(self, name: str, content: Any) -> str:
        """Store ``content`` under ``name`` and return the name (Django's signature).

        With ``file_overwrite`` off the write is create-only: a taken name raises
        :class:`AlreadyExistsError` (a ``FileExistsError``) and ``save()`` tries another.
        """
        resolved = self._resolve(name)  # resolved once by save(): free then
        key, name = resolved.key, str(resolved)
        if self._resave_is_same(key, content):
            return name
        if self.file_overwrite:  # the save replaces the file: no delete before it
            self._release_held_delete(key)
        self._settle(key)
        if self._defer(name, content):
            return name
        # Without a conditional create, get_available_name() checked the name; the
        # backend is still asked not to replace a file (it may check just before the
        # write, which narrows the race to that instant).
        self._store(key, content, exclusive=not self.file_overwrite, name=name)
        return name

    def _save_over(self, name: str, content: Any) -> str:
        """Store ``content`` under exactly ``name``, replacing any file there, whatever
        ``file_overwrite`` says: for tools that mirror files (``storages_copy``), which
        must not delete the old file first (a failed save would then lose it)."""
        resolved = self._candidate_name(name, None)
        key, name = resolved.key, str(resolved)
        self._release_held_delete(key)
        self._settle(key)
        self._store(key, content, name=name)
        return name

    def _store(self, key: str, content: Any, exclusive: bool = False, name: str = "") -> None:
        """Upload ``content`` to ``key`` with its content type, parameters and gzip.

        ``exclusive`` asks the backend to refuse an existing file with
        :class:`AlreadyExistsError`: atomically where it declares ``conditional_create``,
        else as best it can (a check just before the write).
        """
        if rewindable(content):
            content.seek(0)
        self._stored_digests.pop(key, None)
        request = self._write_request(name or self._name_for_key(key), key, content)
        request.exclusive = exclusive
        preload = self._preload
        if preload is not None:
            preload.forget(key)
        self._reading.pop(key, None)  # its reader's stat is of the old file
        try:
            self._write(request)
        except AlreadyExistsError as error:
            if not (exclusive and self._is_own_write(request, error)):
                raise
        if preload is not None:
            preload.written(key)

    def _write_request(self, name: str, key: str, content: Any) -> WriteRequest:
        """Build the write for ``content``: what is sent, with which type and encoding.

        ``content`` None builds a writer's request (``open(name, "wb")``): an empty
        ``content``, no size, and ``compress`` where ``save()`` would gzip.
        """
        parameters = self.get_write_parameters(name, content)
        content_type = parameters.pop("content_type", None) or guess_content_type(
            name, content, self.default_content_type
        )
        encoding = parameters.pop("content_encoding", None)
        compress = (
            encoding is None
            and getattr(self, "gzip", False)
            and should_gzip(content_type, getattr(self, "gzip_content_types", ()))
        )
        if content is None:
            stream: IO[bytes] = io.BytesIO()
            size = None
        else:
            stream = (
                content if _is_binary_stream(content) else cast(IO[bytes], BinaryReader(content))
            )
            size = known_size(content)
            if compress:
                stream, size = cast(IO[bytes], GzipCompressor(stream)), None
        return WriteRequest(
            key=key,
            content=stream,
            content_type=content_type,
            content_encoding="gzip" if compress else encoding,
            size=size,
            parameters=parameters,
            source=content if size is not None else None,
            compress=compress and content is None,
        )

    def get_write_parameters(self, name: str, content: Any) -> dict[str, Any]:
        """Return provider parameters for writing ``name``; ``content_type`` and
        ``content_encoding`` keys, if present, override the guesses."""
        return {}

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        resolved = self._resolve(name)
        if not resolved.strip("/"):  # ".", "a/..": the location itself, not a file
            raise ValueError(f"{name!r} names the storage's location, not a file to delete().")
        key = resolved.key
        open_batches = batches_open()  # none: no batch check to make (the common case)
        if open_batches:
            self._settle(key)
            if self._hold_delete(key):
                return
        self._delete_quietly(key)
        if key in self._reading.data:  # not pop() alone: a miss raises and catches KeyError
            self._reading.pop(key, None)
        if open_batches:
            self._stored_digests.pop(key, None)
        if self._preload is not None:
            self._preload.deleted(key)

    def exists(self, name: str) -> bool:
        key = self._resolve(name).key  # not _key(): one call fewer on the commonest calls
        if not batches_open():  # no held delete, nothing to settle, no preload answers
            return self._exists(key)
        if self._delete_is_held(key):
            return False  # deleted, as far as the caller knows (the delete is held back)
        self._settle(key)
        preload = self._answering_preload()
        known = UNKNOWN if preload is None else preload.exists(key)
        return self._exists(key) if known is UNKNOWN else bool(known)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Return (folders, files) directly in ``path``; a missing folder is empty."""
        prefix = self._key(path or "")
        self._settle()
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        folders, files = self._list(prefix)
        return sorted(set(folders)), sorted(set(files))

    def size(self, name: str) -> int:
        """The size of ``name``; a file open for reading answers from the stat its read
        returned (as the times do), so ``open()`` then ``size()`` is one request."""
        key = self._resolve(name).key
        if batches_open():
            self._settle(key)
        if key in self._reading.data:  # a file open on it (else no call at all)
            opened = self._open_stat(key)
            if opened is not None:
                return opened.size
        return self._size(key)

    def _size(self, key: str) -> int:
        """The stored size of ``key`` (a backend may answer without building a whole stat)."""
        return self._stat(key).size

    def _modified(self, key: str) -> datetime | None:
        """The stored modification time of ``key`` (likewise: a backend may answer without
        building a whole stat)."""
        return self._stat(key).modified

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        """Return the URL of ``name``; a provider's extra arguments (S3's ``parameters,
        expire, http_method``) go to its ``_object_url``, positionally too."""
        return self._object_url(self._key(name or ""), *args, **kwargs)

    def get_modified_time(self, name: str) -> datetime:
        return self._time(name, "modified")

    def get_created_time(self, name: str) -> datetime:
        return self._time(name, "created")

    def get_accessed_time(self, name: str) -> datetime:
        return self._time(name, "accessed")

    def _time(self, name: str, which: str) -> datetime:
        key = self._resolve(name).key
        open_batches = batches_open()
        if open_batches:
            self._settle(key)
        opened = self._open_stat(key) if key in self._reading.data else None
        if opened is not None and getattr(opened, which) is not None:
            return _django_time(getattr(opened, which))
        known = self._known(key) if open_batches and which == "modified" else UNKNOWN
        if known is not UNKNOWN and known is not None:
            value = getattr(known, which)
        elif which == "modified":  # a miss is confirmed by the server: the file may be newer
            value = self._modified(key)
            if value is not None and value.tzinfo is timezone.utc and settings.USE_TZ:
                return value  # what _django_time() returns for it, without the call
        else:
            value = getattr(self._stat(key), which)
        if value is None:
            raise NotImplementedError(f"{type(self).__name__} does not record {which} times.")
        return _django_time(value)

    # -- metadata preload (preload.py) ---------------------------------------------------

    @client_property
    def _preload(self) -> MetadataPreload | None:
        """The listing's bookkeeping (kept current by every write of this storage, from
        any thread); it answers questions only inside a batch (``_answering_preload``)."""
        if not self.preload_metadata or type(self)._scan is BaseStorage._scan:
            return None
        prefix = f"{self.key_prefix}/" if self.key_prefix else ""
        return MetadataPreload(lambda: self._scan(prefix), self.preload_metadata_max_age)

    @client_property
    def _create_locks(self) -> KeyLocks:
        """Held by a backend without an atomic create-only write (``conditional_create``)
        from its check that a name is free to the end of its write: no two threads of this
        storage then take one name (``save()`` gives the second another)."""
        return KeyLocks()

    @client_property
    def _reading(self) -> _OpenFiles:
        """Files open for reading, by key: the stat their read returned answers times."""
        return _OpenFiles()

    def _open_stat(self, key: str) -> Stat | None:
        """The stat of ``key`` as the file open on it read it (fresh as its content)."""
        # Its weak reference, read in the dictionary behind it: the mapping's own get()
        # raises and catches a KeyError when no file is open on ``key`` (the common case).
        ref = self._reading.data.get(key)
        file = None if ref is None else ref()
        return None if file is None or file.closed else file._stat

    def _answering_preload(self) -> MetadataPreload | None:
        """The preload, when it may answer: only inside this storage's ``batch()`` in this
        context (collectstatic), listed afresh by each outermost batch. Elsewhere, on a
        request path, the server answers: a listing kept from another moment would call a
        file another process wrote "missing", and no request should list a whole location.
        """
        return self._preload if self._current_batch() is not None else None

    def _known(self, key: str) -> Stat | object | None:
        """What the preload knows of ``key`` (None: missing), or UNKNOWN."""
        preload = self._answering_preload()
        return UNKNOWN if preload is None else preload.lookup(key)

    # -- helpers for providers -------------------------------------------------------------

    def _spool(self) -> IO[bytes]:
        return spooled_file(self.max_memory_size or BASE_OPTIONS["max_memory_size"].default)

    def _not_found(self, key: str, operation: str) -> NotFoundError:
        return NotFoundError(
            "No such file",
            name=self._name_for_key(key),
            operation=operation,
            backend=self.backend_name,
        )

    # -- identity: repr, deconstruct, pickling ---------------------------------------------

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{item.name}={self._shown_value(item.name)}"
            for item in self.options
            if not item.setting_only
        )
        return f"{type(self).__name__}({shown})"

    def _shown_value(self, name: str) -> str:
        value = getattr(self, name, None)
        return "***" if value and name in self.options.secret_names else repr(value)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        """Return what migrations serialise; secrets are left to the settings.

        The path is the public one (``storages_s3.S3Storage``, not the module defining
        it), so moving a class between a package's modules never breaks a migration.
        """
        args, kwargs = getattr(self, "_constructor_args", ((), {}))
        secrets = self.options.secret_names
        kept = {k: v for k, v in kwargs.items() if k not in secrets}
        serializers.register([*args, *kept.values()], self.rebuilt_in_migrations)
        return public_path(type(self)), tuple(args), kept

    def __getstate__(self) -> dict[str, Any]:
        return drop_unpicklable(self.__dict__, type(self))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def public_path(cls: type) -> str:
    """``cls``'s dotted path, through its package's top level when that exports it.

    ``storages_s3.storage.S3Storage`` is recorded as ``storages_s3.S3Storage``; a class
    the top level does not export (a user's subclass) keeps the path of its module.
    """
    module, name = cls.__module__, cls.__qualname__
    top = module.partition(".")[0]
    if top != module and getattr(sys.modules.get(top), name, None) is cls:
        return f"{top}.{name}"
    return f"{module}.{name}"


def _is_binary_stream(content: Any) -> bool:
    """Whether ``content`` is a plain binary stream (no Django ``File`` around it)."""
    return isinstance(content, (io.RawIOBase, io.BufferedIOBase)) and not isinstance(content, File)


class _OpenFiles(weakref.WeakValueDictionary[str, StorageFile]):
    """Files open for reading, by key (``BaseStorage._reading``)."""

    #: The weak references behind the mapping (``WeakValueDictionary``'s own attribute):
    #: read directly by the lookups of every size(), time and delete(), where the
    #: mapping's get() and pop() raise and catch a KeyError for a name with no file open.
    data: dict[str, Callable[[], StorageFile | None]]


def _django_time(value: datetime) -> datetime:
    """Return ``value`` (aware UTC) as Django expects: aware with USE_TZ, else naive local."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    if settings.USE_TZ:
        return value.astimezone(timezone.utc)
    return dj_timezone.make_naive(value)
