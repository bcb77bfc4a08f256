"""A byte flipped on the wire, each way: the user gets an error or the right bytes, never
wrong ones (issue 16, check 5). Run against a real server behind a
:class:`~storages_base.testing.faults.FaultProxy`.

:func:`corrupted_transfers` saves files of the given sizes through a storage whose
connection flips one byte of the request body, then reads them back through one whose
connection flips one byte of the response body. An upload either fails and leaves
nothing under its name, or stores exactly what was sent (a retry resent it); a download
either fails or returns exactly what is stored. A direct storage (no proxy) checks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile

from .faults import HTTP_BODY, FaultProxy, Flip
from .kills import pattern

__all__ = ["Outcomes", "corrupted_transfers"]


@dataclass
class Outcomes:
    """What the flipped transfers gave: refused or correct, per direction."""

    flips: int = 0
    uploads_refused: int = 0
    uploads_correct: int = 0
    downloads_refused: int = 0
    downloads_correct: int = 0
    errors: list[str] = field(default_factory=list)  # the refusals, as the user saw them


def corrupted_transfers(
    proxied: Callable[[], Any],
    direct: Any,
    proxy: FaultProxy,
    sizes: Sequence[int],
    *,
    prefix: str = "integrity",
    up_at: Callable[[int], int] = lambda size: size // 2,
    down_at: Callable[[int], int] = lambda size: size // 2,
    up_skip: Callable[[int], int] = lambda size: 0,
    after: bytes = HTTP_BODY,
    downloads: bool = True,
) -> Outcomes:
    """Flip one byte of each upload, then of each download; return what happened.

    ``proxied()`` builds a storage that talks through ``proxy`` on new connections;
    ``direct`` talks to the server itself. ``up_at``/``down_at`` place the flipped byte
    from the first body byte of a connection (default: the middle of the file);
    ``up_skip`` passes that many new connections of an upload untouched first (a server
    that closes each connection sees a multi-request upload on several). Over TLS, pass
    ``after=b""``: positions then count from the connection's first byte. ``downloads``
    False flips uploads only (a provider that states no checksum to read against).
    """
    outcomes = Outcomes()
    for size in sizes:
        data = pattern(size, start=size)
        name = f"{prefix}/flipped-{size}.bin"
        fired = proxy.stats.fired["flip"]
        flip = Flip(direction="up", after=after, at=up_at(size))
        proxy.inject(flip, connections=1, skip=up_skip(size))
        try:
            saved = proxied().save(name, ContentFile(data))
        except Exception as exc:
            outcomes.errors.append(f"{type(exc).__name__}: {exc}")
            assert not direct.exists(name), f"a refused upload left {name!r} behind"
            outcomes.uploads_refused += 1
        else:
            assert _read(direct, saved) == data, f"{saved!r} was stored with other bytes"
            outcomes.uploads_correct += 1
        finally:
            proxy.clear()
        assert proxy.stats.fired["flip"] == fired + 1, f"no byte of the {size} B upload flipped"

        if not downloads:
            with contextlib.suppress(Exception):
                direct.delete(name)
            continue
        direct.save(name, ContentFile(data))
        proxy.inject(Flip(direction="down", after=after, at=down_at(size)), connections=1)
        try:
            got = _read(proxied(), name)
        except Exception as exc:
            outcomes.errors.append(f"{type(exc).__name__}: {exc}")
            outcomes.downloads_refused += 1
        else:
            assert got == data, f"reading {name!r} returned other bytes than stored"
            outcomes.downloads_correct += 1
        finally:
            proxy.clear()
        assert proxy.stats.fired["flip"] == fired + 2, f"no byte of the {size} B read flipped"
        assert _read(direct, name) == data  # the stored file is intact
        with contextlib.suppress(Exception):
            direct.delete(name)
    outcomes.flips = (2 if downloads else 1) * len(sizes)
    return outcomes


def _read(storage: Any, name: str) -> bytes:
    with storage.open(name, "rb") as file:
        return bytes(file.read())
