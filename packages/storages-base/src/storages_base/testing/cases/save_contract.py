"""Django's save contract kept exactly: free names, ``_save(name, content)``, one file per save.

Each case states a promise third-party code relies on: ``get_available_name()`` names a
free file, a subclass overriding Django's documented hooks keeps working, a write sent
again after its response was lost is stored once, a reader's times follow the storage's
own writes, a one-way upload still gets a free name, and a copy over a file never loses it.
"""

from __future__ import annotations

import inspect
import io
import itertools
import posixpath
import time
import uuid
from typing import Any

from django.core.files.base import ContentFile, File

from ...copy import CopyPlan, copy_storage
from .fixtures import ContractFixtures, StorageFactory

#: Django's Storage methods: the parameter names Django declares, and the positional
#: arguments Django (or a project following its docs) passes.
DJANGO_CALLS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "open": (("name", "mode"), ("n.txt", "rb")),
    "save": (("name", "content", "max_length"), ("n.txt", None, 100)),
    "get_valid_name": (("name",), ("n.txt",)),
    "get_alternative_name": (("file_root", "file_ext"), ("n", ".txt")),
    "get_available_name": (("name", "max_length"), ("n.txt", 100)),
    "generate_filename": (("filename",), ("n.txt",)),
    "delete": (("name",), ("n.txt",)),
    "exists": (("name",), ("n.txt",)),
    "listdir": (("path",), ("",)),
    "size": (("name",), ("n.txt",)),
    "url": (("name",), ("n.txt",)),
    "get_accessed_time": (("name",), ("n.txt",)),
    "get_created_time": (("name",), ("n.txt",)),
    "get_modified_time": (("name",), ("n.txt",)),
    "_open": (("name", "mode"), ("n.txt", "rb")),
    "_save": (("name", "content"), ("n.txt", None)),
}


class OneWay(io.BytesIO):
    """Content that cannot be rewound (a request body being streamed through)."""

    def seekable(self) -> bool:
        return False


class SaveContractCases(ContractFixtures):
    # -- 1. get_available_name() names a free file --------------------------------------

    def test_get_available_name_returns_a_free_name_when_not_overwriting(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        taken = storage.save(f"{folder}/taken.txt", ContentFile(b"kept"))
        free = storage.get_available_name(taken)
        assert free != taken
        assert posixpath.dirname(free) == folder
        assert not storage.exists(free)
        assert storage.get_available_name(f"{folder}/new.txt") == f"{folder}/new.txt"

    def test_save_calls_a_subclass_get_available_name_as_django_does(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)

        def get_available_name(self: Any, name: str, max_length: int | None = None) -> str:
            # The "OverwriteStorage" recipe: replace the old file instead of renaming.
            if self.exists(name):
                self.delete(name)
            return name

        self.subclass(storage, get_available_name=get_available_name)
        first = storage.save(f"{folder}/avatar.png", ContentFile(b"old"))
        second = storage.save(f"{folder}/avatar.png", ContentFile(b"new"))
        assert first == second == f"{folder}/avatar.png"
        assert self.read(storage, second) == b"new"
        assert storage.listdir(folder)[1] == ["avatar.png"]

    # -- 2. Django's signatures, positionally too -----------------------------------------

    def test_a_subclass_overriding_save_with_djangos_signature_works(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        calls: list[str] = []

        def _save(self: Any, name: str, content: Any) -> str:
            calls.append(name)
            return str(super(type(self), self)._save(name, content))  # type: ignore[misc]

        self.subclass(storage, _save=_save)
        first = storage.save(f"{folder}/doc.txt", ContentFile(b"1"))
        second = storage.save(f"{folder}/doc.txt", ContentFile(b"2"), max_length=100)
        assert first == f"{folder}/doc.txt" != second
        assert calls[0] == first
        assert calls[-1] == second
        assert self.read(storage, second) == b"2"

    def test_every_django_storage_method_takes_djangos_positional_arguments(
        self, storage: Any
    ) -> None:
        for method, (params, args) in DJANGO_CALLS.items():
            signature = inspect.signature(getattr(storage, method))
            signature.bind(*args)  # TypeError names the method that refuses them
            assert tuple(signature.parameters)[: len(params)] == params, method

    # -- 3. a write sent again after a lost response is stored once --------------------

    def test_a_create_only_write_sent_again_after_a_lost_response_is_stored_once(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        self.require(
            storage,
            "idempotent_create",
            "a create-only write sent again after its response was lost answers "
            "'already exists', and the backend cannot tell that the file is its own",
        )
        with self.lose_a_write_response(storage):
            name = storage.save(f"{folder}/once.txt", ContentFile(b"stored once"))
        assert name == f"{folder}/once.txt"
        assert storage.listdir(folder)[1] == ["once.txt"]
        assert self.read(storage, name) == b"stored once"

    def test_each_name_tried_after_a_clash_derives_from_the_name_asked_for(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        counter = itertools.count(1)

        def get_alternative_name(self: Any, file_root: str, file_ext: str) -> str:
            return f"{file_root}_{next(counter)}{file_ext}"

        storage.save(f"{folder}/a.txt", ContentFile(b"0"))
        storage.save(f"{folder}/a_1.txt", ContentFile(b"1"))
        self.subclass(storage, get_alternative_name=get_alternative_name)
        assert storage.save(f"{folder}/a.txt", ContentFile(b"2")) == f"{folder}/a_2.txt"

    # -- 4. a reader's times follow the storage's own writes ------------------------------

    def test_modified_time_follows_an_overwrite_while_a_reader_is_open(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=True)
        name = storage.save(f"{folder}/t.txt", ContentFile(b"version one"))
        reader = storage.open(name, "rb")
        try:
            assert reader.read(7) == b"version"
            before = storage.get_modified_time(name)
            # Many servers keep modified times to the second: then wait for the next one.
            pause = 1.1 if before.microsecond == 0 else 0.01
            time.sleep(pause)
            storage.save(name, ContentFile(b"version two, longer"))
            while_open = storage.get_modified_time(name)
            with storage.open(name, "wb") as writer:
                time.sleep(pause)
                writer.write(b"version three")
            after_write = storage.get_modified_time(name)
        finally:
            reader.close()
        assert while_open > before
        assert after_write > while_open
        assert after_write == storage.get_modified_time(name)  # the reader is closed now

    # -- 5. a one-way upload still gets a free name -----------------------------------------

    def test_a_non_seekable_upload_to_a_taken_name_gets_a_free_name(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(file_overwrite=False)
        first = storage.save(f"{folder}/stream.bin", ContentFile(b"first"))
        second = storage.save(f"{folder}/stream.bin", File(OneWay(b"second"), "stream.bin"))
        assert second != first
        assert self.read(storage, first) == b"first"
        assert self.read(storage, second) == b"second"

    # -- 6. storages_copy over a file never loses it ----------------------------------------

    def test_a_failed_copy_over_a_file_leaves_the_old_file_in_place(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        from ...memory import MemoryStorage

        class BreaksMidRead(MemoryStorage):
            def _read(self, key: str, offset: int = 0) -> tuple[Any, Any]:
                stream, stat = super()._read(key, offset)
                return _Failing(stream.read()), stat

        for overwrite in (True, False):
            destination = storage_factory(file_overwrite=overwrite)
            bucket = f"copy-{uuid.uuid4().hex}"
            name = f"{folder}/{overwrite}/copied.txt"
            destination.save(name, ContentFile(b"old"))
            MemoryStorage(bucket=bucket).save(name, ContentFile(b"new and longer"))

            broken = CopyPlan(BreaksMidRead(bucket=bucket), destination, prefix=folder)
            result = copy_storage(broken)
            assert [failed for failed, _ in result.failed] == [name]
            assert self.read(destination, name) == b"old"

            result = copy_storage(CopyPlan(MemoryStorage(bucket=bucket), destination, folder))
            assert result.copied == [name]
            assert self.read(destination, name) == b"new and longer"
            assert destination.listdir(posixpath.dirname(name))[1] == ["copied.txt"]

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def subclass(storage: Any, **methods: Any) -> None:
        """Make ``storage`` an instance of a subclass of its class with ``methods``, as a
        project subclassing the backend would (``super()`` reaches the backend's own)."""
        storage.__class__ = type(f"Project{type(storage).__name__}", (type(storage),), methods)


class _Failing(io.RawIOBase):
    """A source whose read fails halfway, as a dropped connection does."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data
        self._sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._sent:
            raise OSError("the source connection dropped")
        size = min(len(buffer), max(1, len(self._data) // 2))
        buffer[:size] = self._data[:size]
        self._sent = True
        return size
