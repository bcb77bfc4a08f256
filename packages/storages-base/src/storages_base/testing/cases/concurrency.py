"""Check 2 of RELIABILITY.md: one storage instance shared by many threads.

A backend's test module subclasses :class:`ConcurrencyCases`, names its ``provider`` (a
section of RELIABILITY.md) and gives it the contract's ``storage_factory`` fixture::

    class TestS3Concurrency(ConcurrencyCases):
        provider = "S3"
        detail = "moto"

        @pytest.fixture
        def storage_factory(self, moto, moto_bucket):
            return lambda **options: moto.storage(moto_bucket, **options)

Each thread runs its own reproducible schedule of mixed operations (save of a name of its
own, save of a name every thread saves, read, exists, listdir, delete, url) on the one
storage; what each operation returns is checked as it happens, and after the threads end,
a fresh storage (no cache shared with the one under test) checks what the server holds:

- no operation raised;
- every file read back holds exactly what its own writer wrote (each content names its
  writer and carries the SHA-256 of itself, so a mix of two writes is recognised);
- no write is lost: every name ``save()`` returned holds its content unless its owner
  deleted it, and a deleted name is gone;
- ``file_overwrite`` off: each save of the shared names got a name of its own, and the
  server lists them all;
- ``file_overwrite`` on: each shared name holds exactly one writer's whole content.

The figures confirmed in RELIABILITY.md are counted from the schedules that ran (they do
not depend on how the threads interleave, so the row is the same on every run).
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from django.core.files.base import ContentFile

from ..reliability import confirm
from .fixtures import ContractFixtures, StorageFactory

__all__ = ["ConcurrencyCases", "Workload"]

#: Operations and their weights in a thread's schedule.
#: Operations, as counted in RELIABILITY.md, and their weights in a thread's schedule.
OPERATIONS = {
    "saves": 24,
    "same-name saves": 16,
    "reads": 16,
    "exists": 10,
    "listdirs": 10,
    "deletes": 10,
    "urls": 14,
}
KINDS = tuple(OPERATIONS)
WEIGHTS = tuple(OPERATIONS.values())
#: Operations that need a file of the thread's own: without one, the thread saves.
NEEDS_A_FILE = ("reads", "deletes", "urls")
SHARED_NAMES = 4


def content_for(writer: int, op: int, name: str, rng: random.Random) -> bytes:
    """A content naming its writer and name, ending with the SHA-256 of the rest."""
    head = f"writer={writer} op={op} name={name}\n".encode()
    body = head + rng.randbytes(rng.randrange(16, 3000))
    return body + b"\n" + hashlib.sha256(body).hexdigest().encode()


def whole(content: bytes) -> bool:
    """Whether ``content`` is one writer's whole content (not a mix, not cut short)."""
    body, _, digest = content.rpartition(b"\n")
    return hashlib.sha256(body).hexdigest().encode() == digest


@dataclass
class Thread:
    """One thread's schedule, what it saved and what went wrong."""

    index: int
    counts: Counter[str] = field(default_factory=Counter)
    own: dict[str, bytes] = field(default_factory=dict)  # live files of its own folder
    deleted: set[str] = field(default_factory=set)
    #: Saves of a shared name: (name asked, name returned, content).
    shared: list[tuple[str, str, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Workload:
    """``threads`` threads, ``ops`` operations each, on one storage under ``folder``."""

    def __init__(
        self,
        storage: Any,
        folder: str,
        *,
        threads: int,
        ops: int,
        opaque_urls: bool = False,
        atomic_overwrites: bool = True,
        read: Callable[[Any, str], bytes],
    ) -> None:
        self.storage, self.folder = storage, folder
        self.opaque_urls = opaque_urls
        self.atomic_overwrites = atomic_overwrites
        self.read = read
        self.ops = ops
        self.threads = [Thread(index) for index in range(threads)]
        self.overwrite = bool(storage.file_overwrite)

    def shared_name(self, k: int) -> str:
        return f"{self.folder}/same/s{k}.txt"

    def run(self) -> None:
        barrier = threading.Barrier(len(self.threads))

        def work(thread: Thread) -> None:
            try:
                barrier.wait(timeout=60)
            except threading.BrokenBarrierError as exc:
                thread.errors.append(f"barrier: {exc!r}")
                return
            rng = random.Random(f"concurrency-{thread.index}")
            for op in range(self.ops):
                kind = rng.choices(KINDS, WEIGHTS)[0]
                if kind in NEEDS_A_FILE and not thread.own:
                    kind = "saves"
                thread.counts[kind] += 1
                try:
                    self.step(thread, op, kind, rng)
                except Exception as exc:  # every error is reported by the test
                    thread.errors.append(f"op {op} {kind}: {exc!r}")

        workers = [threading.Thread(target=work, args=(t,)) for t in self.threads]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=600)
        hung = sum(worker.is_alive() for worker in workers)
        assert not hung, f"{hung} threads still running after 600 s"

    def step(self, thread: Thread, op: int, kind: str, rng: random.Random) -> None:
        """Run one operation and check what it returned."""
        storage, t = self.storage, thread.index
        mine = sorted(thread.own)
        if kind == "saves":
            asked = f"{self.folder}/w{t}/f{op}.bin"
            content = content_for(t, op, asked, rng)
            got = storage.save(asked, ContentFile(content))
            assert got == asked, f"save({asked!r}) returned {got!r}"
            thread.own[got] = content
            thread.deleted.discard(got)
        elif kind == "same-name saves":
            asked = self.shared_name(rng.randrange(SHARED_NAMES))
            content = content_for(t, op, asked, rng)
            got = storage.save(asked, ContentFile(content))
            if self.overwrite:
                assert got == asked, f"save({asked!r}) returned {got!r}"
            thread.shared.append((asked, got, content))
            if rng.random() < 0.5 and (self.atomic_overwrites or not self.overwrite):
                found = self.read(storage, got)  # read back at once
                if self.overwrite:  # another writer may have replaced it: whole, and its
                    assert whole(found), f"{asked}: {found[:60]!r} is a mix or cut short"
                    assert f"name={asked}\n".encode() in found, found[:60]
                else:
                    assert found == content, f"{got}: {found[:60]!r} is not writer {t}'s"
        elif kind == "reads":
            name = rng.choice(mine)
            assert self.read(storage, name) == thread.own[name], f"{name} read back wrong"
            assert storage.size(name) == len(thread.own[name])
        elif kind == "exists":
            gone = sorted(thread.deleted)
            if gone and rng.random() < 0.4:
                name = rng.choice(gone)
                assert storage.exists(name) is False, f"deleted {name} still exists"
            elif mine:
                name = rng.choice(mine)
                assert storage.exists(name) is True, f"saved {name} does not exist"
            else:
                assert storage.exists(f"{self.folder}/w{t}/never.bin") is False
        elif kind == "listdirs":
            if rng.random() < 0.7:
                _folders, files = storage.listdir(f"{self.folder}/w{t}")
                expected = sorted(name.rsplit("/", 1)[1] for name in thread.own)
                assert sorted(files) == expected, f"w{t} lists {files}, not {expected}"
            else:
                _folders, files = storage.listdir(f"{self.folder}/same")
                if not self.overwrite:  # never deleted: all of this thread's are there
                    missing = {g.rsplit("/", 1)[1] for _a, g, _c in thread.shared} - set(files)
                    assert not missing, f"the shared folder lacks {sorted(missing)}"
        elif kind == "deletes":
            name = rng.choice(mine)
            storage.delete(name)
            del thread.own[name]
            thread.deleted.add(name)
        elif kind == "urls":
            name = rng.choice(mine)
            url = storage.url(name)
            assert isinstance(url, str), url
            assert url, name
            if not self.opaque_urls:
                assert name.rsplit("/", 1)[1] in url, (name, url)
                assert f"/w{t}/" in url, (name, url)

    # -- after the threads ended -------------------------------------------------------------

    def errors(self) -> list[str]:
        return [f"thread {t.index} {error}" for t in self.threads for error in t.errors]

    def lost(self, fresh: Any) -> list[str]:
        """What the server does not hold as saved: checked by ``fresh``, another storage."""
        lost = []
        for thread in self.threads:
            for name, content in thread.own.items():
                if self.read(fresh, name) != content:
                    lost.append(f"{name} does not hold writer {thread.index}'s content")
            lost += [f"deleted {name} exists" for name in thread.deleted if fresh.exists(name)]
            _folders, files = fresh.listdir(f"{self.folder}/w{thread.index}")
            if sorted(files) != sorted(n.rsplit("/", 1)[1] for n in thread.own):
                lost.append(f"w{thread.index} lists {sorted(files)}")
            if not self.overwrite:
                for _asked, got, content in thread.shared:
                    if self.read(fresh, got) != content:
                        lost.append(f"{got} does not hold writer {thread.index}'s content")
        return lost

    def same_name_saves(self) -> list[tuple[str, str, bytes]]:
        return [save for thread in self.threads for save in thread.shared]

    def figures(self) -> str:
        counts: Counter[str] = Counter()
        for thread in self.threads:
            counts += thread.counts
        total = sum(counts.values())
        parts = ", ".join(f"{counts[kind]:,} {kind}" for kind in KINDS)
        return f"{len(self.threads)} threads x {self.ops} ops ({total:,}: {parts})"


class ConcurrencyCases(ContractFixtures):
    """The shared case; subclass it in a ``test_*.py`` module with a ``storage_factory``."""

    #: The section of RELIABILITY.md the rows are confirmed under.
    provider: ClassVar[str] = ""
    #: Told apart in the row when a provider runs on several servers ("moto", "s3rver").
    detail: ClassVar[str] = ""
    threads: ClassVar[int] = 8
    #: Operations per thread of the default run and of the full run (``slow``).
    quick_ops: ClassVar[int] = 30
    full_ops: ClassVar[int] = 200
    #: URLs that do not show the name (Dropbox's temporary links).
    opaque_urls: ClassVar[bool] = False
    #: Whether the server replaces a file at once (a read during an overwrite sees the old
    #: or the new content, whole); False where it rewrites in place: then the shared names
    #: are read only once the writers are done (their final content is checked anyway).
    atomic_overwrites: ClassVar[bool] = True
    #: Why the server itself cannot take concurrent writes of one name (an emulator that
    #: writes in place, interleaving them), if so: the overwrite-on runs skip with it.
    server_mixes_overwrites: ClassVar[str] = ""

    def server_listing(self, storage_factory: StorageFactory, folder: str) -> list[str]:
        """The files the server lists in ``folder``, asked by a fresh storage; a backend
        may override this to list without the backend (its file system, its SDK)."""
        return sorted(storage_factory().listdir(folder)[1])

    @pytest.mark.parametrize("overwrite", [False, True], ids=["overwrite-off", "overwrite-on"])
    def test_threads_share_one_storage(
        self, storage_factory: StorageFactory, folder: str, overwrite: bool
    ) -> None:
        self.run_workload(storage_factory, folder, overwrite, self.quick_ops, "")

    @pytest.mark.slow
    @pytest.mark.parametrize("overwrite", [False, True], ids=["overwrite-off", "overwrite-on"])
    def test_threads_share_one_storage_full(
        self, storage_factory: StorageFactory, folder: str, overwrite: bool
    ) -> None:
        self.run_workload(storage_factory, folder, overwrite, self.full_ops, ", full")

    def run_workload(
        self,
        storage_factory: StorageFactory,
        folder: str,
        overwrite: bool,
        ops: int,
        variant: str,
    ) -> None:
        assert self.provider, f"{type(self).__name__} must name its provider"
        if overwrite and self.server_mixes_overwrites:
            pytest.skip(self.server_mixes_overwrites)
        storage = storage_factory(file_overwrite=overwrite)
        work = Workload(
            storage,
            folder,
            threads=self.threads,
            ops=ops,
            opaque_urls=self.opaque_urls,
            atomic_overwrites=self.atomic_overwrites,
            read=self.read,
        )
        work.run()
        errors = work.errors()
        assert not errors, f"{len(errors)} errors:\n" + "\n".join(errors[:20])
        lost = work.lost(storage_factory(file_overwrite=overwrite))
        assert not lost, f"{len(lost)} lost:\n" + "\n".join(lost[:20])
        saves = work.same_name_saves()
        listed = self.server_listing(storage_factory, f"{folder}/same")
        if overwrite:
            outcome = self.check_one_writer_each(storage_factory, work, saves, listed)
        else:
            got = [got for _asked, got, _content in saves]
            assert len(set(got)) == len(got), "two saves of one name were given one name"
            assert listed == sorted(g.rsplit("/", 1)[1] for g in got), listed
            outcome = (
                f"{len(saves)} same-name saves -> {len(listed)} distinct names listed by the server"
            )
        detail = f"{self.detail}, " if self.detail else ""
        mode = "on" if overwrite else "off"
        row = f"2. Concurrency: {detail}overwrite {mode}{variant}"
        figures = f"{work.figures()}, {len(errors)} errors, {len(lost)} lost, {outcome}"
        if overwrite and not self.atomic_overwrites:
            figures += " (read once the writers were done)"
        confirm(self.provider, row, figures)

    def check_one_writer_each(
        self, storage_factory: StorageFactory, work: Workload, saves: list[Any], listed: list[str]
    ) -> str:
        """Each shared name holds exactly one of its writers' contents, whole."""
        written: dict[str, set[bytes]] = {}
        for asked, _got, content in saves:
            written.setdefault(asked, set()).add(content)
        assert listed == sorted(name.rsplit("/", 1)[1] for name in written), listed
        fresh = storage_factory(file_overwrite=True)
        for name, contents in written.items():
            final = self.read(fresh, name)
            assert final in contents, f"{name} holds {final[:60]!r}, no writer's content"
        return (
            f"{len(saves)} same-name saves of {len(written)} names -> "
            f"each holds one writer's whole content"
        )
