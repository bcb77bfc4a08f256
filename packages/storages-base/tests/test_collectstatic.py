"""collectstatic: storages_base's command batches the copies; identical manifest re-saves
are skipped; without the command, copies are sequential and correct."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import ContentFile
from django.core.management import call_command, get_commands
from django.test import override_settings

from storages_base import Stat, TransientError, WriteRequest
from storages_base.manifest import ManifestFilesMixin as OurManifestFilesMixin
from storages_base.memory import MemoryStorage
from storages_base.testing import collectstatic


class ThreadedStorage(MemoryStorage):
    collectstatic_concurrency = 4

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.writers: set[str] = set()

    def _write(self, request: WriteRequest) -> None:
        self.writers.add(threading.current_thread().name)
        if request.key.endswith("broken.txt"):
            raise TransientError("the server went away", name=request.key, operation="save")
        super()._write(request)


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    for number in range(20):
        (tmp_path / f"f{number}.txt").write_text(f"file {number}\n")
    return tmp_path


@pytest.fixture
def storage() -> ThreadedStorage:
    storage = ThreadedStorage(bucket="deferred")
    storage.clear()
    return storage


def test_collectstatic_uploads_on_threads_and_every_file_is_stored_when_it_returns(
    storage: ThreadedStorage, static_dir: Path
) -> None:
    collectstatic(storage, static_dir)

    assert all(name.startswith("storages-upload") for name in storage.writers)
    assert [storage.open(f"f{n}.txt").read() for n in range(20)] == [
        f"file {n}\n".encode() for n in range(20)
    ]


@pytest.mark.parametrize("batch", [True, False])
def test_a_failed_upload_fails_collectstatic(
    storage: ThreadedStorage, static_dir: Path, batch: bool
) -> None:
    (static_dir / "broken.txt").write_text("x")

    with pytest.raises(TransientError):
        collectstatic(storage, static_dir, batch=batch)


def test_without_the_command_collectstatic_copies_one_after_another_and_correctly(
    storage: ThreadedStorage, static_dir: Path
) -> None:
    collectstatic(storage, static_dir, batch=False)

    assert storage.writers == {threading.current_thread().name}
    assert [storage.open(f"f{n}.txt").read() for n in range(20)] == [
        f"file {n}\n".encode() for n in range(20)
    ]


class Audited(ThreadedStorage):
    """A custom backend that also writes each file's name to a second storage (built
    inside its ``_save``, so inside collectstatic's ``copy_file``)."""

    def _save(self, name: str, content: object, max_length: int | None = None) -> str:
        log = ThreadedStorage(bucket="audit")
        log.save(f"{name}.broken.txt", ContentFile(name.encode()))  # this log's uploads fail
        return super()._save(name, content, max_length)  # type: ignore[arg-type]


def test_a_second_storage_created_inside_copy_file_saves_inline_and_fails_there(
    static_dir: Path,
) -> None:
    """Stack inspection deferred the second storage's saves too: their errors were never
    raised (its own post_process is never called) or surfaced on a later unrelated call."""
    storage = Audited(bucket="audited")
    storage.clear()

    with pytest.raises(TransientError) as raised:
        collectstatic(storage, static_dir)
    assert str(raised.value.name).endswith(".txt.broken.txt")


def _installed(*apps: str) -> list[str]:
    return list(dict.fromkeys([*settings.INSTALLED_APPS, *apps]))


@pytest.mark.parametrize("first", ["storages_base", "django.contrib.staticfiles"])
def test_the_command_replaces_djangos_when_storages_base_comes_first(
    first: str, static_dir: Path
) -> None:
    apps = ["storages_base", "django.contrib.staticfiles"]
    if first != apps[0]:
        apps.reverse()
    backend = f"{ThreadedStorage.__module__}.{ThreadedStorage.__qualname__}"
    storages = {
        "default": {"BACKEND": "storages_base.memory.MemoryStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": {"bucket": f"order-{first}"}},
    }
    with override_settings(
        INSTALLED_APPS=_installed(*apps), STORAGES=storages, STATICFILES_DIRS=[str(static_dir)]
    ):
        assert get_commands()["collectstatic"] == first
        from django.contrib.staticfiles.storage import staticfiles_storage

        staticfiles_storage._setup()
        storage = staticfiles_storage._wrapped
        storage.clear()
        call_command("collectstatic", interactive=False, verbosity=0)

    threaded = all(name.startswith("storages-upload") for name in storage.writers)
    assert threaded == (first == "storages_base")
    assert storage.open("f7.txt").read() == b"file 7\n"


class Etags(MemoryStorage):
    """A memory storage whose listing gives MD5 etags, as S3's does for small files."""

    preload_metadata = True

    def _scan(self, prefix: str) -> list[tuple[str, Stat]]:
        files = self._memory.files
        return [
            (k, replace(s, etag=_md5(d))) for k, (d, s) in files.items() if k.startswith(prefix)
        ]

    def _same_content(self, stat: Stat, data: bytes) -> bool:
        return stat.etag == _md5(data)


class ManifestStorage(ManifestFilesMixin, Etags):  # type: ignore[misc]
    """Django's manifest mixin on a storage with MD5 etags, counting writes and deletes."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.changes: list[str] = []

    def _write(self, request: WriteRequest) -> None:
        self.changes.append(f"write {request.key}")
        super()._write(request)

    def _delete(self, key: str) -> None:
        self.changes.append(f"delete {key}")
        super()._delete(key)


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_manifest_deploy_with_nothing_changed_writes_and_deletes_nothing(
    static_dir: Path,
) -> None:
    """Django's own ManifestFilesMixin: the command's batch holds its deletes back."""
    (static_dir / "site.css").write_text('body { background: url("f1.txt"); }\n')
    first = ManifestStorage(bucket="manifest")
    first.clear()
    collectstatic(first, static_dir)
    assert first.changes

    again = ManifestStorage(bucket="manifest")
    collectstatic(again, static_dir)
    assert again.changes == []

    plain = ManifestStorage(bucket="manifest")  # Django's command: nothing held back
    collectstatic(plain, static_dir, batch=False)
    assert any(change.startswith("delete site.") for change in plain.changes)
    assert any(change.startswith("write site.") for change in plain.changes)

    (static_dir / "f1.txt").write_text("changed\n")
    changed = ManifestStorage(bucket="manifest")
    collectstatic(changed, static_dir)
    assert any(change.startswith("write f1.") for change in changed.changes)
    assert any(change.startswith("write site.") for change in changed.changes)  # refers to it
    assert b"changed" in changed.open(changed.stored_name("f1.txt")).read()


class ThreadedManifestStorage(OurManifestFilesMixin, ThreadedStorage, Etags):  # type: ignore[misc]
    """This package's manifest mixin on a threaded backend, recording the order of writes."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.done: list[str] = []
        self.deletes: list[str] = []

    def _write(self, request: WriteRequest) -> None:
        super()._write(request)
        self.done.append(request.key)  # list.append is atomic: the order writes ended in

    def _delete(self, key: str) -> None:
        self.deletes.append(key)
        super()._delete(key)


@pytest.fixture
def manifest_dir(static_dir: Path) -> Path:
    for number in range(8):
        refs = "".join(f'@import url("f{n}.txt");\n' for n in range(number, number + 4))
        (static_dir / f"s{number}.css").write_text(refs + f"/* sheet {number} */\n")
    return static_dir


@pytest.mark.parametrize("batch", [True, False])
def test_manifest_post_processing_uploads_on_threads_and_writes_the_manifest_last(
    manifest_dir: Path, batch: bool
) -> None:
    """With or without the command: the mixin batches its own post-processing saves."""
    storage = ThreadedManifestStorage(bucket="manifest-threads")
    storage.clear()
    collectstatic(storage, manifest_dir, batch=batch)

    hashed = [key for key in storage.done if key.count(".") == 2]  # name.hash.ext
    assert len(hashed) == 28  # 20 texts and 8 sheets, each hashed copy stored once
    assert storage.done[-1] == "staticfiles.json"  # after every file it names
    assert storage.deletes == []  # nothing existed: nothing to delete before a save
    assert any(name.startswith("storages-upload") for name in storage.writers)
    sheet = storage.open(storage.stored_name("s1.css")).read()
    assert storage.stored_name("f1.txt").encode() in sheet
    assert storage.exists(storage.stored_name("f4.txt"))


def test_a_failed_post_processing_upload_fails_collectstatic_before_the_manifest(
    manifest_dir: Path,
) -> None:
    (manifest_dir / "broken.txt").write_text("x")  # its hashed copy's upload fails too
    storage = ThreadedManifestStorage(bucket="manifest-broken")
    storage.clear()

    with pytest.raises(TransientError):
        collectstatic(storage, manifest_dir)
    assert not storage.exists("staticfiles.json")


@pytest.mark.parametrize("batch", [True, False])
def test_a_manifest_redeploy_with_nothing_changed_writes_and_deletes_nothing(
    manifest_dir: Path, batch: bool
) -> None:
    first = ThreadedManifestStorage(bucket="manifest-again")
    first.clear()
    collectstatic(first, manifest_dir, batch=batch)

    again = ThreadedManifestStorage(bucket="manifest-again")
    collectstatic(again, manifest_dir, batch=batch)
    assert again.done == []
    assert again.deletes == []


@pytest.mark.parametrize(
    ("apps", "backend", "warned"),
    [
        (["django.contrib.staticfiles", "storages_base"], "storages_base.memory.MemoryStorage", 1),
        (["storages_base", "django.contrib.staticfiles"], "storages_base.memory.MemoryStorage", 0),
        (
            ["django.contrib.staticfiles", "storages_base"],
            "django.core.files.storage.FileSystemStorage",
            0,
        ),
    ],
)
def test_check_warns_when_storages_base_comes_after_staticfiles(
    apps: list[str], backend: str, warned: int
) -> None:
    from storages_base.checks import check_storages

    storages = {
        "default": {"BACKEND": "storages_base.memory.MemoryStorage"},
        "staticfiles": {"BACKEND": backend},
    }
    with override_settings(INSTALLED_APPS=_installed(*apps), STORAGES=storages):
        found = [m for m in check_storages() if m.id == "storages.W001"]

    assert len(found) == warned
