"""Faults (issue 16, check 1) and integrity (check 5) against moto and s3rver.

Every operation runs through the loopback fault proxy (storages_base.testing.faults) with
one fault fired on its traffic. Each ends either in success with the right result (botocore
retried) or in a StorageError; never wrong bytes, never a partial or stray object, and an
existing file keeps its old content. Retries are counted: the connections a faulted run
opens against those of the same run without a fault.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile, File

from storages_base import IntegrityError, StorageError, TransientError
from storages_base.testing import free_port, wait_port
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
from storages_base.testing.kills import ServerProcess
from storages_base.testing.reliability import confirm
from storages_base.testing.servers import moto_md5_command
from storages_s3 import S3Storage

from .conftest import S3RVER_BIN, S3RVER_KEY, S3Server

MiB = 1024 * 1024
OLD_SMALL, NEW_SMALL = b"old small " * 100, b"new small " * 120
OLD_LARGE = bytes(range(256)) * (6 * MiB // 256)
NEW_LARGE = bytes(reversed(range(256))) * (6 * MiB // 256)
READ = hashlib.sha256(b"read").digest() * (300 * 1024 // 32)
#: A stalled connection gives up within a second; botocore tries 3 times at most.
FAST: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 1,
    "retries": {"total_max_attempts": 3, "mode": "standard"},
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


# -- timeouts ---------------------------------------------------------------------------


def test_the_default_timeouts_are_finite(moto: S3Server, moto_bucket: str) -> None:
    config = moto.storage(moto_bucket).client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (60, 60)  # botocore's, not None


def test_a_stalled_server_fails_within_the_configured_timeout(bench: Bench) -> None:
    bench.put("read.bin", READ)
    config = Config(connect_timeout=1, read_timeout=0.5, retries={"total_max_attempts": 2})
    storage = bench.storage(client_config=config)
    # Nothing reaches the server, nothing comes back; the connections stay open.
    bench.proxy.inject(Stall(at=0, direction="up"), connections=None)
    calls: list[Callable[[], Any]] = [
        lambda: storage.exists("read.bin"),
        lambda: storage.open("read.bin").read(),
        lambda: storage.save("small.txt", ContentFile(NEW_SMALL)),
        lambda: storage.listdir(""),
    ]
    slowest = 0.0
    for call in calls:
        started = time.monotonic()
        before = bench.proxy.stats.connections
        with pytest.raises(TransientError):
            call()
        slowest = max(slowest, time.monotonic() - started)
        assert bench.proxy.stats.connections - before == 2  # max_attempts, no more
    assert slowest < 2 * 0.5 + 1.5  # two attempts of 0.5 s, and backoff
    assert bench.get("small.txt") is None
    implementation = "moto" if bench.server.conditional_writes else "s3rver"
    confirm(
        "S3",
        f"1. Faults: timeouts, {implementation}",
        f"{len(calls)} operations against a stalled server with read_timeout 0.5 s and 2 "
        "attempts: TransientError after exactly 2 connections, within 2.5 s; botocore's "
        "default timeouts are 60 s, not infinite",
    )


# -- SIGKILL of the server or of the client in the middle of an upload --------------------


@contextmanager
def s3rver_process(directory: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """s3rver in a process of our own, on ``directory`` (kept across restarts)."""
    if not S3RVER_BIN.exists() or shutil.which("node") is None:
        pytest.skip(f"s3rver is not installed ({S3RVER_BIN})")
    proc = subprocess.Popen(
        [str(S3RVER_BIN), "-d", str(directory), "-a", "127.0.0.1", "-p", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


class Stream(io.RawIOBase):
    """``size`` bytes made as they are read; ``at(position)`` is called as they go."""

    def __init__(self, size: int, at: Callable[[int], None]) -> None:
        self.size, self.position, self.at = size, 0, at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position, MiB)
        buffer[:count] = b"n" * count
        self.position += count
        self.at(self.position)
        return count


@pytest.mark.slow  # restarts a node server
def test_the_server_killed_mid_upload(tmp_path: Path) -> None:
    port = free_port()
    server = S3Server(f"http://127.0.0.1:{port}", S3RVER_KEY, S3RVER_KEY, conditional_writes=False)
    config = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2})
    with s3rver_process(tmp_path, port) as proc:
        bucket = server.new_bucket()
        server.client().put_object(Bucket=bucket, Key="big.bin", Body=OLD_LARGE)
        storage = server.storage(bucket, client_config=config, use_threads=False)

        def kill_in_third_part(position: int) -> None:
            if position == 12 * MiB:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)

        started = time.monotonic()
        with pytest.raises(StorageError):
            storage.save("big.bin", File(Stream(30 * MiB, kill_in_third_part), "big.bin"))
        failed_after = time.monotonic() - started
    with s3rver_process(tmp_path, port):
        started = time.monotonic()
        with storage.open("big.bin") as f:  # the same storage: it reconnects
            assert f.read() == OLD_LARGE
        reconnected_after = time.monotonic() - started
        assert storage.listdir("") == ([], ["big.bin"])
        storage.save("big.bin", ContentFile(NEW_SMALL))
        assert server.client().get_object(Bucket=bucket, Key="big.bin")["Body"].read() == NEW_SMALL
    assert failed_after < 10
    assert reconnected_after < 5
    confirm(
        "S3",
        "1. Faults: server SIGKILL, s3rver",
        "s3rver killed 12 MiB into a 30 MiB save over a 6 MiB file: StorageError within 10 s, "
        "the old file intact after the restart, the next open, listdir and save succeed "
        "on the same storage",
    )


CLIENT = """
import io, sys
from storages_base.testing import setup_django
setup_django()
from django.core.files import File
from storages_s3 import S3Storage

class Stream(io.RawIOBase):  # 40 MiB made as they are read, each MiB reported
    position = 0
    def readable(self):
        return True
    def readinto(self, buffer):
        count = min(len(buffer), 40 * 2**20 - self.position, 2**20)
        buffer[:count] = b"n" * count
        self.position += count
        print(self.position, flush=True)
        return count

bucket, endpoint, access_key, secret_key = sys.argv[1:]
storage = S3Storage(bucket_name=bucket, endpoint_url=endpoint, region_name="us-east-1",
                    access_key=access_key, secret_key=secret_key, use_threads=False)
storage.save("big.bin", File(Stream(), "big.bin"))
print("saved", flush=True)
"""


@pytest.mark.slow  # a second Python process
def test_the_client_killed_mid_upload(moto: S3Server, moto_bucket: str) -> None:
    client = moto.client()
    client.put_object(Bucket=moto_bucket, Key="big.bin", Body=OLD_SMALL)
    arguments = [moto_bucket, moto.endpoint, moto.access_key, moto.secret_key]
    child = subprocess.Popen(
        [sys.executable, "-c", CLIENT, *arguments], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == str(17 * MiB):  # in the fourth part (5 MiB parts)
            child.send_signal(signal.SIGKILL)
            break
    assert child.wait(10) == -signal.SIGKILL
    assert client.get_object(Bucket=moto_bucket, Key="big.bin")["Body"].read() == OLD_SMALL
    listing = client.list_objects_v2(Bucket=moto_bucket)
    assert [item["Key"] for item in listing["Contents"]] == ["big.bin"]
    # Nobody is left to abort the upload: it stays incomplete (invisible, its parts
    # billed) until a lifecycle rule (AbortIncompleteMultipartUpload) removes it.
    uploads = client.list_multipart_uploads(Bucket=moto_bucket)["Uploads"]
    assert len(uploads) == 1
    upload = uploads[0]
    parts = client.list_parts(Bucket=moto_bucket, Key="big.bin", UploadId=upload["UploadId"])
    sent = len(parts.get("Parts", []))
    client.abort_multipart_upload(Bucket=moto_bucket, Key="big.bin", UploadId=upload["UploadId"])
    confirm(
        "S3",
        "1. Faults: client SIGKILL, moto",
        f"the saving process killed 17 MiB into a 40 MiB save over an existing file: the old "
        f"content intact, no other object; the upload stays incomplete ({sent} parts) "
        "until a lifecycle rule aborts it",
    )


@pytest.fixture(scope="module")
def checking_moto() -> Iterator[S3Server]:
    """moto refusing a body that does not match its Content-MD5 (BadDigest), as S3 does."""
    with ServerProcess(moto_md5_command) as server:
        url = f"http://127.0.0.1:{server.port}"
        yield S3Server(url, secrets.token_hex(8), secrets.token_hex(16))


def test_a_server_checking_content_md5_refuses_a_corrupted_upload(
    checking_moto: S3Server,
) -> None:
    bucket = checking_moto.new_bucket()
    with FaultProxy(int(urlsplit(checking_moto.endpoint).port or 0)) as proxy:
        bench = Bench(checking_moto, bucket, proxy)
        bench.put("small.txt", OLD_SMALL)
        bench.put("large.bin", OLD_LARGE)
        storage = bench.storage(file_buffer_size=5 * MiB, use_threads=False)
        storage.client.meta.events.register("before-send.s3", close_after_each)
        flip = Flip(at=10, after=HTTP_BODY, direction="up")
        proxy.inject(flip, connections=None)  # every body, every attempt
        with pytest.raises(IntegrityError, match="BadDigest"):
            storage.save("small.txt", ContentFile(NEW_SMALL))
        with pytest.raises(IntegrityError, match="BadDigest"):
            storage.save("large.bin", ContentFile(NEW_LARGE))
        refused = proxy.stats.faults
        assert bench.get("small.txt") == OLD_SMALL  # refused: the old content stays
        assert bench.get("large.bin") == OLD_LARGE
        assert bench.incomplete_uploads() == (0, 0)
        proxy.clear()
        proxy.inject(flip, connections=None, times=1)  # only the first attempt
        assert storage.save("small.txt", ContentFile(NEW_SMALL)) == "small.txt"
        assert bench.get("small.txt") == NEW_SMALL
        assert bench.keys() == ["large.bin", "small.txt"]
    confirm(
        "S3",
        "5. Integrity: Content-MD5 checked by the server, moto",
        f"{refused} corrupted bodies refused with BadDigest (a PUT and a part, each sent "
        "twice): IntegrityError, the old content kept, the upload aborted; a body "
        "corrupted once is sent again and stored intact",
    )


def test_a_lost_complete_response_never_leaves_a_partial_object(bench: Bench) -> None:
    """CompleteMultipartUpload done by the server, its response lost, botocore resends it.

    moto answers the resend as the first; s3rver, whose upload is gone, answers 500: the
    save raises although the object is whole. Either way the name holds all new bytes.
    """
    bench.put("large.bin", OLD_LARGE)
    storage = bench.storage(file_buffer_size=5 * MiB, use_threads=False)
    storage.client.meta.events.register("before-send.s3", close_after_each)
    # One connection a request: Create, part 1, part 2, then Complete (the fourth).
    bench.proxy.inject(Reset(at=40), connections=1, skip=3)
    try:
        outcome = storage.save("large.bin", ContentFile(NEW_LARGE))
    except StorageError as exc:
        outcome = type(exc).__name__
    assert bench.proxy.stats.fired == {"reset": 1}
    assert bench.get("large.bin") == NEW_LARGE
    assert bench.keys() == ["large.bin"]
    implementation = "moto" if bench.server.conditional_writes else "s3rver"
    assert outcome == ("large.bin" if implementation == "moto" else "TransientError")
    confirm(
        "S3",
        f"1. Faults: lost Complete response, {implementation}",
        f"the CompleteMultipartUpload response of a 6 MiB save reset: {outcome}; the name "
        "holds the whole new file, no other object",
    )
