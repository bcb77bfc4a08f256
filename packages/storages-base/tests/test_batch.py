"""``storage.batch()``: concurrent saves, waited for on exit, owned by one context."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile

from storages_base import TransientError, WriteRequest
from storages_base.batch import MAX_BATCHED_SIZE
from storages_base.memory import MemoryStorage


class Recording(MemoryStorage):
    """Records which thread wrote each key; a key ending in "broken" fails, a key
    named in ``slow`` waits for ``release`` before it is stored."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.writers: dict[str, str] = {}
        self.slow: set[str] = set()
        self.release = threading.Event()

    def _write(self, request: WriteRequest) -> None:
        self.writers[request.key] = threading.current_thread().name
        if request.key in self.slow:
            assert self.release.wait(10)
        if request.key.endswith("broken"):
            raise TransientError("the server went away", name=request.key, operation="save")
        super()._write(request)


@pytest.fixture
def storage() -> Iterator[Recording]:
    storage = Recording(bucket="batch")
    storage.clear()
    yield storage
    storage.release.set()


def test_saves_in_a_batch_run_on_upload_threads_and_are_stored_on_exit(storage: Recording) -> None:
    with storage.batch():
        for number in range(20):
            storage.save(f"f{number}.txt", ContentFile(f"file {number}".encode()))

    assert all(name.startswith("storages-upload") for name in storage.writers.values())
    assert [storage.open(f"f{n}.txt").read() for n in range(20)] == [
        f"file {n}".encode() for n in range(20)
    ]


def test_a_save_outside_a_batch_is_done_when_save_returns(storage: Recording) -> None:
    storage.save("a.txt", ContentFile(b"a"))

    assert storage.writers == {"a.txt": threading.current_thread().name}


def test_the_exit_raises_the_first_error_after_every_upload_ended(storage: Recording) -> None:
    storage.slow.add("late.txt")

    def block() -> None:
        with storage.batch():
            storage.save("late.txt", ContentFile(b"late"))
            storage.save("broken", ContentFile(b"x"))
            storage.save("fine.txt", ContentFile(b"fine"))
            threading.Timer(0.2, storage.release.set).start()

    with pytest.raises(TransientError):
        block()
    assert storage.open("late.txt").read() == b"late"  # ended before the error was raised
    assert storage.open("fine.txt").read() == b"fine"
    assert not storage.exists("broken")


def test_an_error_leaving_the_block_is_not_replaced_by_an_upload_error(storage: Recording) -> None:
    def block() -> None:
        with storage.batch():
            storage.save("broken", ContentFile(b"x"))
            raise KeyError("the block's own")

    with pytest.raises(KeyError):
        block()


def test_reading_a_name_being_uploaded_waits_for_it(storage: Recording) -> None:
    storage.slow.add("slow.txt")
    with storage.batch():
        storage.save("slow.txt", ContentFile(b"new"))
        threading.Timer(0.2, storage.release.set).start()
        assert storage.exists("slow.txt")
        assert storage.size("slow.txt") == 3
        assert storage.open("slow.txt").read() == b"new"


def test_a_large_file_is_saved_inline_in_a_batch(storage: Recording) -> None:
    with storage.batch():
        storage.save("big.bin", ContentFile(b"x" * (MAX_BATCHED_SIZE + 1)))
        assert storage.writers["big.bin"] == threading.current_thread().name


def test_a_no_overwrite_save_in_a_batch_is_inline_and_picks_a_free_name(storage: Recording) -> None:
    storage.file_overwrite = False
    storage.save("a.txt", ContentFile(b"first"))
    with storage.batch():
        name = storage.save("a.txt", ContentFile(b"second"))
        assert storage.writers[name] == threading.current_thread().name
    assert name != "a.txt"
    assert storage.open("a.txt").read() == b"first"


def test_another_thread_saves_inline_while_a_batch_is_open(storage: Recording) -> None:
    """The batch belongs to the thread that opened it: another thread's save of the same
    storage is neither deferred nor waited for by the batch, and its errors are its own."""
    storage.slow.add("mine.txt")
    errors: list[BaseException] = []

    def other() -> None:
        storage.save("theirs.txt", ContentFile(b"theirs"))
        try:
            storage.save("theirs-broken", ContentFile(b"x"))
        except TransientError as exc:
            errors.append(exc)

    with storage.batch():
        storage.save("mine.txt", ContentFile(b"mine"))
        thread = threading.Thread(target=other, name="other-thread")
        thread.start()
        thread.join(10)
        assert storage.writers["theirs.txt"] == "other-thread"
        assert storage.open("theirs.txt").read() == b"theirs"  # stored when its save returned
        storage.release.set()
    assert len(errors) == 1  # raised in the other thread, not at this batch's exit
    assert storage.writers["mine.txt"].startswith("storages-upload")


def test_batches_on_two_threads_wait_for_their_own_uploads_only(storage: Recording) -> None:
    storage.slow.add("a-slow.txt")
    done = threading.Event()

    def other() -> None:
        with storage.batch():
            storage.save("b.txt", ContentFile(b"b"))
        done.set()

    with storage.batch():
        storage.save("a-slow.txt", ContentFile(b"a"))
        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(10)  # its exit did not wait for this batch's slow upload
        storage.release.set()
    thread.join(10)
    assert storage.open("a-slow.txt").read() == b"a"
    assert storage.open("b.txt").read() == b"b"


def test_nested_batches_wait_for_their_own_uploads_and_listdir_waits_for_all(
    storage: Recording,
) -> None:
    storage.slow.add("outer.txt")
    with storage.batch():
        storage.save("outer.txt", ContentFile(b"outer"))
        with storage.batch():
            storage.save("inner.txt", ContentFile(b"inner"))
        assert storage.writers["inner.txt"].startswith("storages-upload")
        assert storage._memory.files.get("inner.txt") is not None  # waited for on exit
        assert storage._memory.files.get("outer.txt") is None  # still uploading
        threading.Timer(0.2, storage.release.set).start()
        assert storage.listdir("")[1] == ["inner.txt", "outer.txt"]


def test_an_inner_batch_error_raises_at_the_inner_exit(storage: Recording) -> None:
    with storage.batch():
        with pytest.raises(TransientError), storage.batch():
            storage.save("broken", ContentFile(b"x"))
        storage.save("after.txt", ContentFile(b"after"))
    assert storage.open("after.txt").read() == b"after"


def test_a_batch_of_another_storage_does_not_defer_this_ones_saves(storage: Recording) -> None:
    other = Recording(bucket="batch")
    with other.batch():
        storage.save("a.txt", ContentFile(b"a"))
        assert storage.writers["a.txt"] == threading.current_thread().name


class Sequential(Recording):
    batch_concurrency = 0


class Legacy(Recording):
    collectstatic_concurrency = 2  # the former name of batch_concurrency


def test_concurrency_zero_saves_inline_and_the_old_attribute_still_counts() -> None:
    sequential = Sequential(bucket="batch-seq")
    with sequential.batch():
        sequential.save("a.txt", ContentFile(b"a"))
        assert sequential.writers["a.txt"] == threading.current_thread().name
    assert Legacy(bucket="batch-legacy")._batch_workers() == 2
    assert Recording(bucket="batch")._batch_workers() == 4  # the default


def test_only_a_batch_holding_deletes_hashes_what_it_uploads(
    storage: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MD5 of each upload serves held deletes only: a plain batch (collectstatic
    without a manifest) does not spend it; a hold_deletes one keeps it."""
    from storages_base import batch as batch_module

    hashed: list[bytes] = []
    real = batch_module._md5
    monkeypatch.setattr(batch_module, "_md5", lambda data: hashed.append(data) or real(data))
    with storage.batch():
        storage.save("plain.txt", ContentFile(b"plain"))
    assert hashed == []

    with storage.batch(hold_deletes=True) as batch:
        storage.save("held.txt", ContentFile(b"held"))
        batch.wait_all()
        assert batch.digests == {"held.txt": real(b"held")}
    assert hashed == [b"held"]
