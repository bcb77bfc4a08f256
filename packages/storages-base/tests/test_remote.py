"""File-server machinery: temporary upload names, the connection pool, bounded retries."""

from __future__ import annotations

import posixpath
import threading
import time

import pytest

from storages_base.errors import NotFoundError, StorageError, TransientError
from storages_base.remote import ConnectionPool, is_temporary_name, retrying, temporary_name


def test_a_temporary_name_is_hidden_in_the_folder_of_the_key() -> None:
    name = temporary_name("media/photos/cat.jpg")
    assert posixpath.dirname(name) == "media/photos"
    assert is_temporary_name(posixpath.basename(name))
    assert temporary_name("media/photos/cat.jpg") != name


@pytest.mark.parametrize(
    "name", ["cat.jpg", ".storages-xyz.part", ".storages-0123456789abcdef.part.jpg"]
)
def test_ordinary_names_are_not_temporary(name: str) -> None:
    assert not is_temporary_name(name)


class Connections:
    """Counts what a pool does with its connections."""

    def __init__(self) -> None:
        self.made = 0
        self.closed: list[int] = []
        self.dead: set[int] = set()
        self.lock = threading.Lock()

    def connect(self) -> int:
        with self.lock:
            self.made += 1
            return self.made

    def close(self, conn: int) -> None:
        self.closed.append(conn)

    def check(self, conn: int) -> None:
        if conn in self.dead:
            raise ConnectionError("dropped by the server")


def test_a_released_connection_is_lent_again() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close)
    first = pool.acquire()
    pool.release(first)
    assert pool.acquire() == first
    assert conns.made == 1


def test_threads_holding_connections_get_distinct_ones() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close)
    held = [pool.acquire() for _ in range(3)]
    assert len(set(held)) == 3


def test_no_more_than_max_idle_connections_are_kept() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close, max_idle=2)
    held = [pool.acquire() for _ in range(4)]
    for conn in held:
        pool.release(conn)
    assert pool.idle == 2
    assert conns.closed == [3, 4]


def test_a_connection_broken_inside_the_block_is_closed_not_reused() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close)
    with (
        pytest.raises(ConnectionError),
        pool.connection(broken=lambda exc: isinstance(exc, ConnectionError)),
    ):
        raise ConnectionError("reset")
    assert conns.closed == [1]
    assert pool.idle == 0


def test_a_connection_whose_block_failed_for_another_reason_is_reused() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close)
    with (
        pytest.raises(FileNotFoundError),
        pool.connection(broken=lambda exc: isinstance(exc, ConnectionError)),
    ):
        raise FileNotFoundError("no such file")
    assert pool.idle == 1
    assert conns.closed == []


def test_an_idle_connection_is_checked_before_reuse_and_replaced_if_dead() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close, check=conns.check, check_after=0.0)
    pool.release(pool.acquire())
    conns.dead.add(1)
    time.sleep(0.01)
    assert pool.acquire() == 2
    assert conns.closed == [1]


def test_a_recently_used_connection_is_lent_without_a_check() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close, check=conns.check, check_after=60.0)
    pool.release(pool.acquire())
    conns.dead.add(1)  # not noticed: it was used less than a minute ago
    assert pool.acquire() == 1


def test_closing_the_pool_closes_idle_connections_and_it_reconnects_later() -> None:
    conns = Connections()
    pool = ConnectionPool(conns.connect, conns.close)
    pool.release(pool.acquire())
    pool.close()
    assert conns.closed == [1]
    assert pool.acquire() == 2


def test_errors_while_closing_a_broken_connection_are_swallowed() -> None:
    def bad_close(conn: int) -> None:
        raise OSError("already gone")

    pool = ConnectionPool(lambda: 1, bad_close)
    pool.discard(1)


class Flaky:
    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError)


def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    flaky = Flaky(2, ConnectionResetError("reset"))
    assert retrying(flaky, transient=is_connection_error, attempts=3, backoff=0) == "done"
    assert flaky.calls == 3


def test_retries_are_bounded_and_end_in_a_chained_transient_error() -> None:
    reset = ConnectionResetError("reset")
    flaky = Flaky(10, reset)
    with pytest.raises(TransientError) as caught:
        retrying(flaky, transient=is_connection_error, attempts=3, backoff=0)
    assert flaky.calls == 3
    assert caught.value.__cause__ is reset


def test_a_non_transient_error_is_raised_at_once() -> None:
    flaky = Flaky(10, PermissionError("denied"))
    with pytest.raises(PermissionError):
        retrying(flaky, transient=is_connection_error, backoff=0)
    assert flaky.calls == 1


def test_an_operation_that_cannot_be_repeated_is_not_retried() -> None:
    flaky = Flaky(10, ConnectionResetError("reset"))
    with pytest.raises(TransientError):
        retrying(flaky, transient=is_connection_error, backoff=0, can_retry=lambda: False)
    assert flaky.calls == 1


def test_describe_shapes_the_final_error() -> None:
    def describe(exc: BaseException, runs: int) -> StorageError:
        return TransientError(f"gave up after {runs}", operation="save", backend="ftp")

    with pytest.raises(TransientError, match="gave up after 2") as caught:
        retrying(
            Flaky(10, ConnectionResetError()),
            transient=is_connection_error,
            attempts=2,
            backoff=0,
            describe=describe,
        )
    assert caught.value.backend == "ftp"


def test_a_storage_error_passes_through_unchanged_when_not_transient() -> None:
    missing = NotFoundError("gone", name="x")
    with pytest.raises(NotFoundError) as caught:
        retrying(Flaky(1, missing), transient=is_connection_error, backoff=0)
    assert caught.value is missing
