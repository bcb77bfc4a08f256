"""Faults (issue 16, check 1) and integrity (check 5) against moto and s3rver.

Every operation runs through the loopback fault proxy (storages_base.testing.faults) with
one fault fired on its traffic. Each ends either in success with the right result (botocore
retried) or in a StorageError; never wrong bytes, never a partial or stray object, and an
existing file keeps its old content. Retries are counted: the connections a faulted run
opens against those of the same run without a fault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile

from storages_base import IntegrityError, StorageError
from storages_base.testing.faults import (
    HTTP_BODY,
    Fault,
    FaultProxy,
    Flip,
    Latency,
    Reset,
    Stall,
    Truncate,
)
from storages_base.testing.reliability import confirm
from storages_s3 import S3Storage

from .conftest import S3Server

MiB = 1024 * 1024
OLD_SMALL, NEW_SMALL = b"old small " * 100, b"new small " * 120
OLD_LARGE = bytes(range(256)) * (6 * MiB // 256)
NEW_LARGE = bytes(reversed(range(256))) * (6 * MiB // 256)
READ = hashlib.sha256(b"read").digest() * (300 * 1024 // 32)
#: A stalled connection gives up within a second; botocore tries 3 times at most.
FAST: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 1,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


@dataclass
class Bench:
    """A bucket on a real server, a fault proxy in front of it, what the bucket must hold."""

    server: S3Server
    bucket: str
    proxy: FaultProxy
    expected: dict[str, bytes] = field(default_factory=dict, repr=False)

    def storage(self, **options: Any) -> S3Storage:
        """A new storage (its own connection pool) reaching the bucket through the proxy."""
        config = Config(**FAST)
        options = {"endpoint_url": self.proxy.url, "client_config": config, **options}
        return self.server.storage(self.bucket, **options)

    def put(self, key: str, data: bytes) -> None:
        self.server.client().put_object(Bucket=self.bucket, Key=key, Body=data)
        self.expected[key] = data

    def get(self, key: str) -> bytes | None:
        client = self.server.client()
        try:
            return bytes(client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except client.exceptions.NoSuchKey:
            return None

    def keys(self) -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def incomplete_uploads(self) -> tuple[int, int]:
        """(uploads left holding parts, empty ones) in the bucket (0, 0 on s3rver)."""
        if not self.server.conditional_writes:
            return 0, 0  # s3rver does not implement ListMultipartUploads
        client = self.server.client()
        uploads = client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        holding = 0
        for upload in uploads:
            parts = client.list_parts(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
            holding += bool(parts.get("Parts"))
        return holding, len(uploads) - holding


@pytest.fixture
def bench(server: S3Server, bucket: str) -> Iterator[Bench]:
    port = urlsplit(server.endpoint).port
    assert port is not None
    with FaultProxy(port) as proxy:
        yield Bench(server, bucket, proxy)


# -- the operations: each sets up, runs through a storage, and checks what a user sees -----


@dataclass
class Operation:
    name: str
    setup: Callable[[Bench], None]
    run: Callable[[S3Storage], Any]
    check: Callable[[Bench, Any], None]  # after success: the result and the bucket
    after_error: Callable[[Bench, Fault], None]  # after a StorageError: the bucket
    options: dict[str, Any] = field(default_factory=dict)


def _save_checks(name: str, old: bytes, new: bytes) -> tuple[Callable[..., None], ...]:
    def check(bench: Bench, result: Any) -> None:
        assert result == name  # the same name: no duplicate under another one
        assert bench.get(name) == new
        bench.expected[name] = new

    def after_error(bench: Bench, fault: Fault) -> None:
        stored = bench.get(name)
        if isinstance(fault, Flip):  # refused, or stored corrupt by a non-verifying server
            assert stored in (old, None)  # and then deleted: never the corrupted bytes
        else:  # cut before the server had it all (old), or after it stored it (new)
            assert stored in (old, new)
        if stored is None:
            del bench.expected[name]
        else:
            bench.expected[name] = stored

    return check, after_error


def _save(name: str, old: bytes, new: bytes, **options: Any) -> Operation:
    check, after_error = _save_checks(name, old, new)
    return Operation(
        f"save {name}",
        lambda bench: bench.put(name, old),
        lambda storage: storage.save(name, ContentFile(new)),
        check,
        after_error,
        options,
    )


def _save_new() -> Operation:
    """A create-only save (file_overwrite False): a resent PUT must not make a second file."""

    def setup(bench: Bench) -> None:
        bench.server.client().delete_object(Bucket=bench.bucket, Key="fresh.txt")
        bench.expected.pop("fresh.txt", None)

    def check(bench: Bench, result: Any) -> None:
        assert result == "fresh.txt"
        assert bench.get("fresh.txt") == NEW_SMALL
        bench.expected["fresh.txt"] = NEW_SMALL

    def after_error(bench: Bench, fault: Fault) -> None:
        stored = bench.get("fresh.txt")
        assert stored in (None, NEW_SMALL)
        if stored is not None:
            bench.expected["fresh.txt"] = stored

    return Operation(
        "save fresh.txt (create-only)",
        setup,
        lambda storage: storage.save("fresh.txt", ContentFile(NEW_SMALL)),
        check,
        after_error,
        {"file_overwrite": False},
    )


def _read() -> Operation:
    def run(storage: S3Storage) -> bytes:
        with storage.open("read.bin") as f:
            return bytes(f.read())

    def check(bench: Bench, result: Any) -> None:
        assert result == READ

    return Operation(
        "open+read",
        lambda bench: bench.put("read.bin", READ),
        run,
        check,
        lambda bench, fault: None,
    )


def _exists() -> Operation:
    def check(bench: Bench, result: Any) -> None:
        assert result == (True, False)

    return Operation(
        "exists",
        lambda bench: bench.put("read.bin", READ),
        lambda storage: (storage.exists("read.bin"), storage.exists("missing.bin")),
        check,
        lambda bench, fault: None,
    )


def _delete() -> Operation:
    def check(bench: Bench, result: Any) -> None:
        assert bench.get("gone.txt") is None
        del bench.expected["gone.txt"]

    def after_error(bench: Bench, fault: Fault) -> None:
        if bench.get("gone.txt") is None:
            del bench.expected["gone.txt"]

    return Operation(
        "delete",
        lambda bench: bench.put("gone.txt", b"delete me"),
        lambda storage: storage.delete("gone.txt"),
        check,
        after_error,
    )


def _listdir() -> Operation:
    def check(bench: Bench, result: Any) -> None:
        assert result == ([], sorted(bench.expected))

    def run(storage: S3Storage) -> tuple[list[str], list[str]]:
        folders, files = storage.listdir("")
        return sorted(folders), sorted(files)

    return Operation("listdir", lambda bench: None, run, check, lambda bench, fault: None)


def _common(direction_up_at: int) -> list[Fault]:
    """Faults every operation meets: on the request and on the response."""
    return [
        Latency(seconds=0.05),
        Reset(at=direction_up_at, direction="up"),
        Reset(at=40),  # inside the response head: the server did the work
        Truncate(at=40),
        Stall(at=0),
    ]


def _plan() -> list[tuple[Operation, list[Fault]]]:
    large = {"file_buffer_size": 5 * MiB, "use_threads": False}  # two parts, in order
    in_body = {"after": HTTP_BODY, "direction": "up"}
    return [
        (
            _save("small.txt", OLD_SMALL, NEW_SMALL),
            [*_common(100), Reset(at=10, **in_body), Flip(at=10, **in_body)],  # type: ignore[arg-type]
        ),
        (
            _save("large.bin", OLD_LARGE, NEW_LARGE, **large),
            [
                *_common(100),
                Reset(at=2 * MiB, **in_body),  # type: ignore[arg-type]
                Stall(at=2 * MiB, **in_body),  # type: ignore[arg-type]
                Flip(at=2 * MiB, **in_body),  # type: ignore[arg-type]
            ],
        ),
        (_save_new(), [*_common(100), Reset(at=0, after=HTTP_BODY)]),
        (
            _read(),
            [
                *_common(20),
                Reset(at=100_000, after=HTTP_BODY),
                Truncate(at=100_000, after=HTTP_BODY),
                Flip(at=100_000, after=HTTP_BODY),
            ],
        ),
        (_exists(), _common(20)),
        (_delete(), _common(20)),
        (_listdir(), _common(20)),
    ]


@dataclass
class Tally:
    cases: int = 0
    fired: int = 0
    succeeded: int = 0
    errors: int = 0
    retries: int = 0
    empty_uploads: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _attempt(bench: Bench, operation: Operation) -> tuple[bool, int]:
    """Run ``operation`` once through the proxy; return (succeeded, connections opened)."""
    before = bench.proxy.stats.connections
    storage = bench.storage(**operation.options)
    try:
        result = operation.run(storage)
    except StorageError:
        return False, bench.proxy.stats.connections - before
    operation.check(bench, result)
    return True, bench.proxy.stats.connections - before


def run_plan(bench: Bench) -> Tally:
    tally = Tally()
    for key, data in (("small.txt", OLD_SMALL), ("read.bin", READ)):
        bench.put(key, data)
    for operation, faults in _plan():
        operation.setup(bench)
        ok, baseline = _attempt(bench, operation)  # the same run without a fault
        assert ok, f"{operation.name} fails without a fault"
        for fault in faults:
            operation.setup(bench)
            fired_before = bench.proxy.stats.faults
            bench.proxy.inject(fault, connections=None, times=1)
            try:
                ok, connections = _attempt(bench, operation)
                if not ok:
                    operation.after_error(bench, fault)
            finally:
                bench.proxy.clear()
            where = f"{operation.name} with {fault}"
            fired = bench.proxy.stats.faults - fired_before
            assert fired == 1, f"{where}: the fault never fired"
            # Bounded: at most the attempts botocore allows beyond the fault-free run.
            assert connections <= baseline + 3, f"{where}: {connections} connections"
            assert bench.keys() == sorted(bench.expected), where  # nothing stray, no duplicate
            # An upload is aborted when any part fails. A CreateMultipartUpload whose response
            # was lost and that botocore sent again leaves an empty one behind (no parts, no
            # cost; the bucket's AbortIncompleteMultipartUpload rule removes it).
            holding, empty = bench.incomplete_uploads()
            assert holding == 0, f"{where}: an upload holding parts was left behind"
            tally.empty_uploads = empty
            tally.cases += 1
            tally.fired += fired
            tally.succeeded += ok
            tally.errors += not ok
            tally.retries += max(connections - baseline, 0)
            tally.by_kind[fault.kind] = tally.by_kind.get(fault.kind, 0) + 1
    return tally


@pytest.mark.slow  # ~25 s a server: 8 stalls wait out the 1 s read timeout, 6 MiB saves
def test_every_operation_survives_each_fault_or_raises(bench: Bench) -> None:
    tally = run_plan(bench)
    implementation = "moto" if bench.server.conditional_writes else "s3rver"
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(tally.by_kind.items()))
    print(f"{implementation}: {tally}")  # succeeded/raised/retries vary with timing
    confirm(
        "S3",
        f"1. Faults: proxy, {implementation}",
        f"{tally.fired} faults fired ({kinds}) on {len(_plan())} operations: each call "
        "succeeded with the right result or raised StorageError, at most 3 attempts a "
        "request; no stray or partial object, old content kept",
    )


def close_after_each(request: Any, **_: Any) -> None:
    request.headers["Connection"] = "close"


def test_a_corrupted_upload_is_never_stored(bench: Bench) -> None:
    """Integrity: a byte flipped on the way to the server in every attempt."""
    bench.put("small.txt", OLD_SMALL)
    flip = Flip(at=10, after=HTTP_BODY, direction="up")
    bench.proxy.inject(flip, connections=None)
    storage = bench.storage(file_buffer_size=5 * MiB, use_threads=False)
    # One connection a request (s3rver keeps them open), so every resend meets the flip.
    storage.client.meta.events.register("before-send.s3", close_after_each)
    with pytest.raises(IntegrityError):
        storage.save("small.txt", ContentFile(NEW_SMALL))
    # moto and s3rver store what they got (they do not check Content-MD5): the corrupt
    # object was deleted; a server that checks (S3, MinIO) refused it, the old one stays.
    assert bench.get("small.txt") in (OLD_SMALL, None)
    with pytest.raises(IntegrityError):
        storage.save("large.bin", ContentFile(NEW_LARGE))
    assert bench.get("large.bin") is None  # a multipart upload is aborted before it commits
    assert bench.incomplete_uploads() == (0, 0)
    fired = bench.proxy.stats.faults
    bench.proxy.clear()
    bench.put("read.bin", READ)
    bench.proxy.inject(Flip(at=1000, after=HTTP_BODY), connections=None)
    with pytest.raises(IntegrityError), storage.open("read.bin") as f:
        f.read()
    assert bench.proxy.stats.faults == fired + 1
    implementation = "moto" if bench.server.conditional_writes else "s3rver"
    confirm(
        "S3",
        f"5. Integrity: flipped bytes, {implementation}",
        f"{fired} bytes flipped on the way up (a PUT and a multipart part, each sent twice) "
        "and 1 on the way down: IntegrityError each time, no corrupt object kept, "
        "the multipart upload aborted",
    )
