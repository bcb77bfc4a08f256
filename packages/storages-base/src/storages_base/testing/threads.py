"""Run one call from several threads released together (caches and signers under contention)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["at_once"]

T = TypeVar("T")


def at_once(call: Callable[[], T], threads: int = 8) -> list[T]:
    """``call()`` in ``threads`` threads started through one barrier; every result, each thread's.

    Fails if any thread did not return (its exception is then in the pytest output).
    """
    results: list[T] = []
    start = threading.Barrier(threads)

    def run() -> None:
        start.wait()
        results.append(call())

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(results) == threads, f"{threads - len(results)} of {threads} threads failed"
    return results
