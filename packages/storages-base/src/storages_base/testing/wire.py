"""Connections cut, stalled and slowed under a save and a read (issue 16, check 1).

:func:`wire_faults` runs a storage through a :class:`~storages_base.testing.faults.FaultProxy`
and, one fault at a time on the first new connection of one operation: resets the upload
halfway, cuts the upload's answer (the server stored it; the client never hears), stalls
the upload, then resets, truncates and stalls a read halfway; last, adds latency to every
connection of a save and a read. After each, what the user saw is checked:

* an operation either raises or succeeds with the right bytes (never short or wrong ones);
* the name holds the old content or exactly the new one, and nothing else is in the
  folder (no partial object, no duplicate from a retry);
* a stalled peer ends in an error (or a retry that succeeds) within ``bound`` seconds: the
  storage's configured timeout is honoured.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile

from .faults import HTTP_BODY, Fault, FaultProxy, Latency, Reset, Stall, Truncate
from .kills import pattern

__all__ = ["WireOutcomes", "wire_faults"]


@dataclass
class WireOutcomes:
    """How many faults were injected, and what the operations under them gave."""

    faults: int = 0
    operations: int = 0
    errors: int = 0
    succeeded: int = 0
    seen: list[str] = field(default_factory=list)  # per case: "name: error Type" / "name: ok"
    kinds: tuple[str, ...] = ("reset", "cut answer", "stall", "truncate", "latency")

    def figures(self) -> str:
        return (
            f"{self.faults} faults ({', '.join(self.kinds)}) on "
            f"{self.operations} operations: {self.errors} errors, {self.succeeded} succeeded "
            f"with the right bytes"
        )


def wire_faults(
    proxied: Callable[[], Any],
    direct: Any,
    proxy: FaultProxy,
    *,
    size: int,
    bound: float,
    after: bytes = HTTP_BODY,
    prefix: str = "wire",
    cut_answer: bool = True,
) -> WireOutcomes:
    """Run the cases above; ``proxied()`` builds a storage on new connections through
    ``proxy`` (with a short timeout), ``direct`` checks on the server itself. Over TLS
    (``after=b""``), pass ``cut_answer=False``: the answer's place in the encrypted
    stream is not known, and the other faults count from the connection's first byte."""
    outcomes = WireOutcomes()
    if not cut_answer:
        outcomes.kinds = ("reset", "stall", "truncate", "latency")
    old, new = b"old content", pattern(size, start=7)
    half = size // 2
    uploads: list[tuple[str, Fault]] = [
        ("reset upload", Reset(direction="up", at=half, after=after)),
        ("cut answer", Truncate(direction="down", at=0)),
        ("stall upload", Stall(direction="up", at=half, after=after)),
    ]
    if not cut_answer:
        del uploads[1]
    for label, fault in uploads:
        name = f"{prefix}/{label.replace(' ', '-')}.bin"
        direct.save(name, ContentFile(old))
        result = _run(
            outcomes,
            proxy,
            label,
            fault,
            bound,
            lambda: _save(proxied(), name, new),  # noqa: B023
        )
        stored = _read(direct, name)
        assert stored in (old, new), f"{label}: {name!r} holds other bytes"
        if result is not None:
            assert stored == new, f"{label}: the save succeeded but the old content is there"
        listed = direct.listdir(f"{prefix}")[1]
        assert sorted(listed) == [name.rsplit("/", 1)[1]], f"{label}: {prefix}/ has {listed}"
        direct.delete(name)

    name = f"{prefix}/read.bin"
    direct.save(name, ContentFile(new))
    reads: list[tuple[str, Fault]] = [
        ("reset read", Reset(direction="down", at=half, after=after)),
        ("truncate read", Truncate(direction="down", at=half, after=after)),
        ("stall read", Stall(direction="down", at=half, after=after)),
    ]
    for label, fault in reads:
        got = _run(outcomes, proxy, label, fault, bound, lambda: _read(proxied(), name))
        assert got is None or got == new, f"{label}: the read returned other bytes"

    proxy.inject(Latency(seconds=0.05), connections=None)
    try:
        storage = proxied()
        saved = _save(storage, f"{prefix}/slow.bin", new)
        assert _read(storage, saved) == new, "under latency the read returned other bytes"
        outcomes.operations += 2
        outcomes.succeeded += 2
        outcomes.faults += 1
        outcomes.seen.append("latency: ok")
    finally:
        proxy.clear()
    with contextlib.suppress(Exception):
        direct.delete(name)
        direct.delete(f"{prefix}/slow.bin")
    # every operation counted once, as an error or as a success with the right bytes
    assert outcomes.errors + outcomes.succeeded == outcomes.operations, outcomes.seen
    return outcomes


def _run(
    outcomes: WireOutcomes,
    proxy: FaultProxy,
    label: str,
    fault: Fault,
    bound: float,
    operation: Callable[[], Any],
) -> Any:
    """Run ``operation`` with ``fault`` on its first new connection; None if it raised."""
    fired = proxy.stats.faults
    proxy.inject(fault, connections=1)
    started = time.monotonic()
    result = None
    try:
        result = operation()
    except Exception as exc:
        outcomes.errors += 1
        outcomes.seen.append(f"{label}: error {type(exc).__name__}")
    else:
        outcomes.succeeded += 1
        outcomes.seen.append(f"{label}: ok")
    finally:
        proxy.clear()
        proxy.drop()  # a stalled connection must not linger into the next case
    elapsed = time.monotonic() - started
    assert elapsed < bound, f"{label}: {elapsed:.1f} s, more than {bound} s"
    assert proxy.stats.faults > fired, f"{label}: the fault never took effect"
    outcomes.faults += 1
    outcomes.operations += 1
    return result


def _save(storage: Any, name: str, data: bytes) -> str:
    saved = storage.save(name, ContentFile(data))
    assert saved == name, f"saved as {saved!r}, not over {name!r}"
    return str(saved)


def _read(storage: Any, name: str) -> bytes:
    with storage.open(name, "rb") as file:
        return bytes(file.read())
