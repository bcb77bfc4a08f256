"""A live round trip through one storage, step by step: what ``storages_check`` runs.

Each step is timed and, when it fails, explained by :func:`storages_base.checks.diagnose`
(the provider's advice first: a missing IAM permission, a wrong region...). The file
is written under a fresh temporary name and deleted at the end, also after a failure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from .checks import diagnose

__all__ = ["Probe", "Step", "probe"]

#: Folder of the temporary files (each run uses a new random name inside it).
PROBE_FOLDER = "storages-check"


@dataclass
class Step:
    """One step of the round trip: how long it took, what it showed, or why it failed."""

    name: str
    seconds: float = 0.0
    detail: str = ""
    error: BaseException | None = None
    advice: str = ""
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


@dataclass
class Probe:
    alias: str
    backend: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.error is None for step in self.steps)


class _Failed(Exception):
    """A step's result was wrong (as opposed to raising)."""


def probe(storage: Storage, alias: str = "", *, timeout: float = 10.0) -> Probe:
    """Run save, exists, read, size, modified time, listdir, url and delete on ``storage``."""
    report = Probe(alias=alias, backend=f"{type(storage).__module__}.{type(storage).__name__}")
    payload = b"storages_check " + secrets.token_hex(16).encode() + b"\n"
    wanted = f"{PROBE_FOLDER}/{secrets.token_hex(8)}.txt"

    def run(name: str, action: Callable[[], str]) -> bool:
        step = Step(name)
        started = time.perf_counter()
        try:
            step.detail = action()
        except Exception as exc:  # every failure is reported, none stops the command
            step.error = exc
            step.advice = "" if isinstance(exc, _Failed) else diagnose(storage, name, exc)
        step.seconds = time.perf_counter() - started
        report.steps.append(step)
        return step.error is None

    saved: list[str] = []

    def save() -> str:
        saved.append(storage.save(wanted, ContentFile(payload)))
        return saved[0]

    if not run("save", save):
        return report
    name = saved[0]
    run("exists", lambda: _expect(storage.exists(name), True, "exists() is False"))
    run("read", lambda: _read(storage, name, payload))
    run("size", lambda: _expect(storage.size(name), len(payload), "size"))
    run("modified time", lambda: storage.get_modified_time(name).isoformat(timespec="seconds"))
    run("listdir", lambda: _listed(storage, name))
    _url_steps(report, storage, name, payload, timeout, run)
    run("delete", lambda: _delete(storage, name))
    return report


def _expect(value: Any, wanted: Any, what: str) -> str:
    if value != wanted:
        raise _Failed(f"{what}: got {value!r}, expected {wanted!r}")
    return str(value)


def _read(storage: Storage, name: str, payload: bytes) -> str:
    with storage.open(name, "rb") as handle:
        data = handle.read()
    if data != payload:
        raise _Failed(f"read {len(data)} bytes that differ from the {len(payload)} written")
    return f"{len(data)} bytes"


def _listed(storage: Storage, name: str) -> str:
    folder, _, base = name.rpartition("/")
    _dirs, files = storage.listdir(folder)
    if base not in files:
        raise _Failed(f"{base!r} is not among the {len(files)} files listed in {folder!r}/")
    return f"{len(files)} file(s) in {folder}/"


def _url_steps(
    report: Probe,
    storage: Storage,
    name: str,
    payload: bytes,
    timeout: float,
    run: Callable[[str, Callable[[], str]], bool],
) -> None:
    urls: list[str] = []

    def url() -> str:
        urls.append(storage.url(name))
        return urls[0]

    if not run("url", url):
        return
    if not urls[0].startswith(("http://", "https://")):
        report.steps.append(Step("fetch url", detail="not an http(s) URL", skipped=True))
        return
    run("fetch url", lambda: _fetch(urls[0], payload, timeout))


def _fetch(url: str, payload: bytes, timeout: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # http(s) only, checked
        body = response.read()
        status = response.status
    if body != payload:
        raise _Failed(f"HTTP {status}: the body ({len(body)} bytes) is not the file")
    return f"HTTP {status}, {len(body)} bytes"


def _delete(storage: Storage, name: str) -> str:
    storage.delete(name)
    if storage.exists(name):
        raise _Failed("the file still exists after delete()")
    _remove_local_folder(storage, name)
    return "gone"


def _remove_local_folder(storage: Storage, name: str) -> None:
    """Leave no empty probe folder behind in a local storage (object stores have none)."""
    try:
        folder = os.path.dirname(storage.path(name))
    except (NotImplementedError, AttributeError):
        return
    with contextlib.suppress(OSError):  # not empty, or already gone: leave it
        os.rmdir(folder)
