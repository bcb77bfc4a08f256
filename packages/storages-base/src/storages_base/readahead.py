"""Read-ahead for downloads fetched in pieces: the next piece is on its way while the
caller works on this one.

A download made of ranged GETs, one after the other, leaves the server idle while the
client checks and hands out a range, and the client idle while the server reads and
sends the next one. :class:`ReadAhead` fetches the next item of such a download in a
thread of its own, at most one item ahead (memory: the item in use and the next), and
only once the caller has asked for a second item, so a reader that stops after the first
piece costs no more requests than without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["ReadAhead"]

T = TypeVar("T")
_END = object()


class ReadAhead(Generic[T]):
    """The items of ``source`` in order; from the second one on, each next item is
    fetched in a worker thread while the caller uses the current one. An error raised
    fetching an item is raised where that item is asked for, not before, and ends the
    iteration."""

    def __init__(self, source: Iterator[T]) -> None:
        self._source = source
        self._started = False
        self._closed = False
        self._next: Future[object] | None = None
        self._pool: ThreadPoolExecutor | None = None

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            if self._next is not None:
                future, self._next = self._next, None
                item = future.result()
            else:
                item = next(self._source, _END)
        except BaseException:
            self.close()  # nothing past a failed item is handed out
            raise
        if not self._started:  # the first item: a short read stops here
            self._started = True
            return self._item(item)
        if item is not _END:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, "storages-read-ahead")
            self._next = self._pool.submit(next, self._source, _END)
        return self._item(item)

    def _item(self, item: object) -> T:
        if item is _END:
            self.close()
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop fetching; an item already on its way is dropped when it arrives."""
        self._closed = True
        self._next = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
