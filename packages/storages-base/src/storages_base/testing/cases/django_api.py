"""Django's side: FieldFile sessions of the docs, pickling and the cache, times, identity."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from importlib import import_module
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import FileField
from django.test import override_settings
from django.utils import timezone as dj_timezone

from ..app.models import Document
from .fixtures import ContractFixtures, StorageFactory

CLOSE = timedelta(minutes=5)


@contextmanager
def document_storage(storage: Any, folder: str) -> Iterator[type[Document]]:
    """Let ``Document.file`` save to ``storage`` under ``folder`` for one case."""
    if Document._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Document)
    field = cast(FileField, Document._meta.get_field("file"))
    saved = field.storage, field.upload_to
    field.storage, field.upload_to = storage, f"{folder}/tests"
    try:
        yield Document
    finally:
        field.storage, field.upload_to = saved


def _near_now(value: datetime) -> bool:
    return abs(value - datetime.now(timezone.utc)) < CLOSE


class DjangoCases(ContractFixtures):
    def test_the_docs_field_file_session_reads_sizes_and_chunks(
        self, storage: Any, folder: str
    ) -> None:
        with document_storage(storage, folder) as model:
            obj1 = model()
            assert repr(obj1.file) == "<FieldFile: None>"
            with pytest.raises(ValueError, match="no file associated"):
                obj1.file.size  # noqa: B018 - the property raises
            obj1.file.save("django_test.txt", ContentFile(b"content"))
            assert repr(obj1.file) == f"<FieldFile: {folder}/tests/django_test.txt>"
            assert obj1.file.size == 7
            assert obj1.file.read() == b"content"
            obj1.file.open()
            assert obj1.file.read(3) == b"con"
            assert obj1.file.read() == b"tent"
            assert b"-".join(obj1.file.chunks(chunk_size=2)) == b"co-nt-en-t"
            obj1.file.delete()
            assert not storage.exists(f"{folder}/tests/django_test.txt")

    def test_a_same_name_field_file_save_keeps_the_name_when_overwriting(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        with document_storage(storage_factory(file_overwrite=True), folder) as model:
            obj1, obj2 = model(), model()
            obj1.file.save("django_test.txt", ContentFile(b"content"))
            obj2.file.save("django_test.txt", ContentFile(b"more content"))
            assert obj2.file.name == obj1.file.name == f"{folder}/tests/django_test.txt"
            assert obj2.file.size == 12
            assert obj1.file.storage.open(obj1.file.name).read() == b"more content"

    def test_a_same_name_field_file_save_gets_a_new_name_when_not_overwriting(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        with document_storage(storage_factory(file_overwrite=False), folder) as model:
            obj1, obj2 = model(), model()
            obj1.file.save("django_test.txt", ContentFile(b"content"))
            obj2.file.save("django_test.txt", ContentFile(b"more content"))
            assert obj1.file.name == f"{folder}/tests/django_test.txt"
            assert obj2.file.name != obj1.file.name
            assert str(obj2.file.name).startswith(f"{folder}/tests/django_test_")
            assert obj2.file.size == 12
            assert obj1.file.read() == b"content"

    def test_model_instances_pickle_through_the_cache_and_still_read(
        self, storage: Any, folder: str
    ) -> None:
        with document_storage(storage, folder) as model:
            obj1, obj2 = model(), model()
            obj1.file.save("django_test.txt", ContentFile(b"content"))
            obj2.file.save("other.txt", ContentFile(b"more content"))
            obj1.file.read()  # an open file must not stop pickling
            key = f"contract-{uuid.uuid4().hex}"
            cache.set(key + "1", obj1)
            cache.set(key + "2", obj2)
            cached = cache.get(key + "2")
            assert repr(cached.file) == f"<FieldFile: {obj2.file.name}>"
            assert cached.file.size == 12
            assert cached.file.read() == b"more content"
            assert cache.get(key + "1").file.read() == b"content"

    def test_a_model_saved_to_the_database_reads_its_file_after_reload(
        self, storage: Any, folder: str
    ) -> None:
        with document_storage(storage, folder) as model:
            doc = model(name="report")
            doc.file.save("report.txt", ContentFile(b"stored"), save=True)
            again = model.objects.get(pk=doc.pk)
            assert again.file.name == f"{folder}/tests/report.txt"
            with again.file.open("rb") as file:
                assert file.read() == b"stored"

    def test_a_storage_pickles_and_the_copy_still_works(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/before.txt", ContentFile(b"before pickling"))
        storage.exists(name)  # clients and connections are built by now
        copy = pickle.loads(pickle.dumps(storage))
        assert type(copy) is type(storage)
        assert self.read(copy, name) == b"before pickling"
        other = copy.save(f"{folder}/after.txt", ContentFile(b"after pickling"))
        assert self.read(copy, other) == b"after pickling"
        assert self.read(storage, name) == b"before pickling"

    def test_modified_time_is_aware_utc_when_use_tz_is_on(self, storage: Any, folder: str) -> None:
        name = storage.save(f"{folder}/timed.txt", ContentFile(b"x"))
        with override_settings(USE_TZ=True):
            value = storage.get_modified_time(name)
        assert dj_timezone.is_aware(value)
        assert value.utcoffset() == timedelta(0)
        assert _near_now(value)

    def test_modified_time_is_naive_local_when_use_tz_is_off(
        self, storage: Any, folder: str
    ) -> None:
        name = storage.save(f"{folder}/naive.txt", ContentFile(b"x"))
        with override_settings(USE_TZ=False):
            value = storage.get_modified_time(name)
            assert dj_timezone.is_naive(value)
            assert _near_now(dj_timezone.make_aware(value))

    def test_created_time_is_aware_and_recent(self, storage: Any, folder: str) -> None:
        self.require(storage, "created_time", "the server does not record creation times")
        name = storage.save(f"{folder}/born.txt", ContentFile(b"x"))
        value = storage.get_created_time(name)
        assert dj_timezone.is_aware(value)
        assert _near_now(value)

    def test_accessed_time_is_aware_and_recent(self, storage: Any, folder: str) -> None:
        self.require(storage, "accessed_time", "the server does not record access times")
        name = storage.save(f"{folder}/touched.txt", ContentFile(b"x"))
        self.read(storage, name)
        value = storage.get_accessed_time(name)
        assert dj_timezone.is_aware(value)
        assert _near_now(value)

    def test_repr_names_the_class_and_hides_every_secret(self, storage: Any) -> None:
        text = repr(storage)
        assert text.startswith(type(storage).__name__ + "(")
        for secret in _secret_values(storage):
            assert secret not in text

    def test_deconstruct_rebuilds_the_storage_without_its_secrets(
        self, storage_factory: StorageFactory, folder: str
    ) -> None:
        storage = storage_factory(location=f"{folder}/deconstructed")
        path, args, kwargs = storage.deconstruct()
        module, _, name = path.rpartition(".")
        assert getattr(import_module(module), name) is type(storage)
        for secret in _secret_values(storage):
            assert secret not in repr((path, args, kwargs))
        rebuilt = type(storage)(*args, **kwargs)
        assert rebuilt.location == storage.location == f"{folder}/deconstructed"

    def test_deconstruct_records_the_public_path(self, storage: Any) -> None:
        """A class its package exports at the top is recorded there (``storages_s3.S3Storage``),
        so moving it between the package's modules never breaks a user's migration."""
        cls = type(storage)
        top = cls.__module__.partition(".")[0]
        path = storage.deconstruct()[0]
        if getattr(import_module(top), cls.__qualname__, None) is cls:
            assert path == f"{top}.{cls.__qualname__}"
        else:
            assert path == f"{cls.__module__}.{cls.__qualname__}"

    def test_generate_filename_makes_a_name_django_can_store(self, storage: Any) -> None:
        assert storage.generate_filename("some dir/ho ho?.txt") == "some dir/ho_ho.txt"


def _secret_values(storage: Any) -> list[str]:
    """The values of the options the backend marks secret (strings long enough to spot)."""
    options = getattr(storage, "options", None)
    names = getattr(options, "secret_names", ())
    values = [getattr(storage, name, None) for name in names]
    return [value for value in values if isinstance(value, str) and len(value) >= 4]
