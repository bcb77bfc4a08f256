"""Libcloud, ours beside django-storages 1.14.6, on the LOCAL driver and the S3 driver (moto).

    uv run python benchmarks/libcloud_side_by_side.py [--large-mib 16]

(django-storages saves a file by iterating it line by line through libcloud's 5 MiB
concatenating chunker: its S3 save of 16 MiB takes about 100 s here, so the default size is
16 MiB; ``--large-mib 256`` is issue 15's size, for a long run.)

moto runs in a process of its own on 127.0.0.1; each side runs in a process of its own,
the classic one in ``benchmarks/.venv-classic-libcloud`` (django-storages[libcloud] with the
workspace's Django, apache-libcloud and requests). django-storages' backend passes only
``region``/``project`` to the driver, so its S3 driver is rebuilt pointing at moto (the same
driver class and arguments as ours). Objects listed are counted on the driver both sides
use (``iterate_container_objects``; ours on LOCAL reads one folder and counts its entries).
Memory is the process's peak RSS above its size before the step. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import environments

HERE = Path(__file__).resolve().parent
CLASSIC_VENV = HERE / ".venv-classic-libcloud"
ROOT_FILES = 5000
FOLDER_FILES = 50

SIDE = r"""
import json, os, sys, time
side, kind, root, port, large_mib = sys.argv[1:6]
large_mib = int(large_mib)
local = kind == "local"
entry = {"type": "libcloud.storage.types.Provider." + ("LOCAL" if local else "S3"),
         "user": root if local else "testing", "key": None if local else "testing",
         "bucket": "bench-" + side}
import django
from django.conf import settings
settings.configure(USE_TZ=True, LIBCLOUD_PROVIDERS={"default": entry}, MEDIA_URL="/media/")
django.setup()
from django.core.files.base import ContentFile, File
from libcloud.storage.providers import get_driver
if side == "classic":
    from storages.backends.apache_libcloud import LibCloudStorage
    storage = LibCloudStorage()
    if kind == "s3":
        storage.driver = get_driver("s3")("testing", "testing", host="127.0.0.1",
                                          port=int(port), secure=False)
    driver = storage.driver
else:
    from storages_libcloud import LibCloudStorage
    if kind == "s3":
        entry.update(host="127.0.0.1", port=int(port), secure=False)
    storage = LibCloudStorage(providers={"default": entry})
    driver = storage.driver
listed = [0]
iterate = driver.iterate_container_objects
def counting(*args, **kwargs):
    for obj in iterate(*args, **kwargs):
        listed[0] += 1
        yield obj
driver.iterate_container_objects = counting
def rss(field="VmRSS"):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
out = {}
t = time.perf_counter()
folders, files = storage.listdir("target")
out["listdir of 50 in 5,000: ms"] = round((time.perf_counter() - t) * 1000, 1)
own = getattr(storage, "objects_listed", 0)
out["listdir of 50 in 5,000: objects listed"] = max(listed[0], own)
assert len(files) == 50, len(files)
path = os.path.join(root, "..", f"large-{large_mib}.bin")
if not os.path.exists(path):
    with open(path, "wb") as f:
        for i in range(large_mib):
            f.write(bytes([i % 251]) * (1 << 20))
reset_peak(); start = rss(); t = time.perf_counter()
with open(path, "rb") as f:
    name = storage.save("large.bin", File(f, "large.bin"))
out[f"save {large_mib} MiB: s"] = round(time.perf_counter() - t, 2)
out[f"save {large_mib} MiB: peak MiB above start"] = round((rss("VmHWM") - start) / 2**20, 1)
reset_peak(); start = rss(); t = time.perf_counter()
with storage.open(name) as f:
    assert len(f.read(1)) == 1
out[f"1-byte read of {large_mib} MiB: s"] = round(time.perf_counter() - t, 3)
peak = round((rss("VmHWM") - start) / 2**20, 1)
out[f"1-byte read of {large_mib} MiB: peak MiB above start"] = peak
reset_peak(); start = rss(); t = time.perf_counter()
with storage.open(name) as f:
    total = 0
    while chunk := f.read(1 << 20):
        total += len(chunk)
out[f"read {large_mib} MiB: MiB read back"] = round(total / 2**20, 1)  # classic S3: one chunk
out[f"read {large_mib} MiB: s"] = round(time.perf_counter() - t, 2)
out[f"read {large_mib} MiB: peak MiB above start"] = round((rss("VmHWM") - start) / 2**20, 1)
print(json.dumps(out))
"""


PINNED = ("django", "apache-libcloud", "fasteners", "requests")


def classic_python() -> str:
    return environments.classic_venv(CLASSIC_VENV, "", PINNED)


def populate(kind: str, side: str, root: str, port: int) -> None:
    """5,000 one-byte objects, 50 of them in ``target/``, put there directly."""
    bucket = f"bench-{side}"
    if kind == "local":
        for i in range(ROOT_FILES):
            folder = "target" if i < FOLDER_FILES else f"other{i % 20}"
            os.makedirs(os.path.join(root, bucket, folder), exist_ok=True)
            with open(os.path.join(root, bucket, folder, f"{i:05}.txt"), "wb") as f:
                f.write(b"x")
        return
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    for i in range(ROOT_FILES):
        folder = "target" if i < FOLDER_FILES else f"other{i % 20}"
        client.put_object(Bucket=bucket, Key=f"{folder}/{i:05}.txt", Body=b"x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large-mib", type=int, default=16)
    args = parser.parse_args()
    from storages_base.testing import free_port, wait_port

    pythons = {"classic": classic_python(), "ours": sys.executable}
    environments.equal_terms(pythons, PINNED)  # bytecode for both, the same way
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        wait_port(port, moto)
        for kind in ("local", "s3"):
            with tempfile.TemporaryDirectory() as work:
                root = os.path.join(work, "root")
                os.makedirs(root)
                for side, python in pythons.items():
                    populate(kind, side, root, port)
                    env = {**os.environ, "TMPDIR": work}  # LOCAL's lock files
                    command = [python, "-c", SIDE, side, kind, root, str(port)]
                    results.setdefault(kind, {})[side] = environments.run_side(
                        [*command, str(args.large_mib)], env, f"{kind} {side}"
                    )
    finally:
        moto.terminate()
        moto.wait(10)
    print("| driver | measure | django-storages 1.14.6 | ours | classic / ours |")
    print("|---|---|---|---|---|")
    for kind, sides in results.items():
        for key in sides["ours"]:
            classic, ours = sides["classic"].get(key), sides["ours"][key]
            ratio = f"{classic / ours:.1f}x" if classic and ours else "—"
            print(f"| {kind} | {key} | {classic} | {ours} | {ratio} |")


if __name__ == "__main__":
    main()
