"""Copy every file of one storage to another: what ``storages_copy`` runs.

Works between any two Django storages (``FileSystemStorage`` to S3 when a site moves
to the cloud, one bucket to another, S3 to FTP...). Files stream from the source's
``open()`` into the destination's ``save()``, a few at a time (``workers``). A file
already at the destination with the same size, and the same MD5 where both sides can
tell it, is skipped, so an interrupted copy resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock

from django.core.files.base import File
from django.core.files.storage import Storage

__all__ = ["CopyPlan", "CopyResult", "copy_storage", "facts", "md5_of", "save_over", "walk"]

_MD5 = re.compile(r'^"?([0-9a-fA-F]{32})"?$')


@dataclass
class CopyResult:
    """What a copy did; ``failed`` pairs each name with its error."""

    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, BaseException]] = field(default_factory=list)
    bytes_copied: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def total(self) -> int:
        return len(self.copied) + len(self.skipped) + len(self.failed)


@dataclass(frozen=True)
class CopyPlan:
    source: Storage
    destination: Storage
    prefix: str = ""
    workers: int = 4
    dry_run: bool = False


#: ``progress(name, action, size)`` after each file; action is "copied", "skipped", "failed".
Progress = Callable[[str, str, int], None]


def walk(storage: Storage, folder: str = "") -> Iterator[str]:
    """Yield the name of every file under ``folder``, folders first listed, depth first."""
    pending = [folder.strip("/")]
    while pending:
        current = pending.pop()
        dirs, files = storage.listdir(current)
        base = f"{current}/" if current else ""
        for name in sorted(files):
            yield base + name
        pending.extend(base + d for d in sorted(dirs, reverse=True))


def facts(storage: Storage, name: str) -> tuple[int, str | None] | None:
    """Return (size, MD5 or None) of a file, or None when it does not exist.

    One metadata request on our backends, whose stored ETag is the MD5 of a file
    uploaded in one piece (multipart and encrypted uploads have another shape and are
    left out). Other storages answer ``exists()`` and ``size()``.
    """
    stat = getattr(storage, "_stat", None)
    key = getattr(storage, "_key", None)
    if callable(stat) and callable(key):
        try:
            found = stat(key(name))
        except FileNotFoundError:
            return None
        match = _MD5.match(getattr(found, "etag", None) or "")
        return int(found.size), match.group(1).lower() if match else None
    if not storage.exists(name):
        return None
    return storage.size(name), None


def md5_of(storage: Storage, name: str) -> str | None:
    """Return the MD5 of a file of a local storage (one with ``path()``), else None."""
    try:
        path = storage.path(name)
    except (NotImplementedError, AttributeError):
        return None
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def same_file(plan: CopyPlan, name: str, ours: tuple[int, str | None]) -> bool:
    """Whether the destination holds this file: same size, and same MD5 where both tell."""
    theirs = facts(plan.destination, name)
    if theirs is None or theirs[0] != ours[0]:
        return False
    if not (_can_hash(plan.source, name, ours) and _can_hash(plan.destination, name, theirs)):
        return True  # one side knows no checksum: the size decides
    our_md5 = ours[1] or md5_of(plan.source, name)
    their_md5 = theirs[1] or md5_of(plan.destination, name)
    return our_md5 == their_md5


def _can_hash(storage: Storage, name: str, known: tuple[int, str | None]) -> bool:
    """Whether a checksum of the file is known, or can be read from a local file."""
    if known[1] is not None:
        return True
    try:
        storage.path(name)
    except (NotImplementedError, AttributeError):
        return False
    return True


def copy_one(plan: CopyPlan, name: str) -> tuple[str, int]:
    """Copy one file unless it is already there; return (action, bytes)."""
    ours = facts(plan.source, name)
    if ours is None:
        raise FileNotFoundError(f"{name} disappeared from the source")
    if same_file(plan, name, ours):
        return "skipped", 0
    if plan.dry_run:
        return "copied", ours[0]
    with plan.source.open(name, "rb") as content:
        save_over(plan.destination, name, content)
    return "copied", ours[0]


def save_over(storage: Storage, name: str, content: File) -> None:  # type: ignore[type-arg]
    """Store ``content`` under ``name``, replacing the file there without deleting it first.

    Deleting first would lose the file if the save then failed. Our storages replace it
    in one write (``_save_over``), whatever their ``file_overwrite``. Another storage
    saves; if it kept the old file and chose another name, the new content is safe under
    that name before the old file is deleted and the content saved again under ``name``.
    """
    save_over_hook = getattr(storage, "_save_over", None)
    if callable(save_over_hook):
        save_over_hook(name, content)
        return
    saved = storage.save(name, content)
    if saved == name:
        return
    storage.delete(name)
    with storage.open(saved, "rb") as stored:
        again = storage.save(name, stored)
    if again != name:
        raise RuntimeError(f"the destination stored {name!r} as {again!r}")
    storage.delete(saved)


def copy_storage(
    plan: CopyPlan, names: list[str] | None = None, progress: Progress | None = None
) -> CopyResult:
    """Copy ``names`` (default: every file under ``plan.prefix``), ``plan.workers`` at a time."""
    result = CopyResult(dry_run=plan.dry_run)
    guard = Lock()
    started = time.perf_counter()

    def task(name: str) -> None:
        try:
            action, size = copy_one(plan, name)
        except Exception as exc:  # one bad file must not stop the others
            action, size = "failed", 0
            with guard:
                result.failed.append((name, exc))
        else:
            with guard:
                (result.copied if action == "copied" else result.skipped).append(name)
                result.bytes_copied += size
        if progress is not None:
            progress(name, action, size)

    with ThreadPoolExecutor(max_workers=max(1, plan.workers)) as pool:
        # list() re-raises a task's unexpected error (progress callback bugs, ...).
        list(pool.map(task, walk(plan.source, plan.prefix) if names is None else names))
    result.seconds = time.perf_counter() - started
    return result
