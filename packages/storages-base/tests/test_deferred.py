"""collectstatic: concurrent uploads that fail loudly; identical manifest re-saves skipped."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import ContentFile

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


def test_a_failed_upload_fails_collectstatic(storage: ThreadedStorage, static_dir: Path) -> None:
    (static_dir / "broken.txt").write_text("x")

    with pytest.raises(TransientError):
        collectstatic(storage, static_dir)


def test_a_save_outside_collectstatic_is_done_when_save_returns(storage: ThreadedStorage) -> None:
    storage.save("a.txt", ContentFile(b"a"))

    assert storage.writers == {threading.current_thread().name}


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
    (static_dir / "site.css").write_text('body { background: url("f1.txt"); }\n')
    first = ManifestStorage(bucket="manifest")
    first.clear()
    collectstatic(first, static_dir)
    assert first.changes

    again = ManifestStorage(bucket="manifest")
    collectstatic(again, static_dir)
    assert again.changes == []

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


def test_manifest_post_processing_uploads_on_threads_and_writes_the_manifest_last(
    manifest_dir: Path,
) -> None:
    storage = ThreadedManifestStorage(bucket="manifest-threads")
    storage.clear()
    collectstatic(storage, manifest_dir)

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


def test_a_manifest_redeploy_with_nothing_changed_writes_and_deletes_nothing(
    manifest_dir: Path,
) -> None:
    first = ThreadedManifestStorage(bucket="manifest-again")
    first.clear()
    collectstatic(first, manifest_dir)

    again = ThreadedManifestStorage(bucket="manifest-again")
    collectstatic(again, manifest_dir)
    assert again.done == []
    assert again.deletes == []
