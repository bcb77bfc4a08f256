"""Memory stays bounded by a buffer, not by the file: 512 MiB saved, read, written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SIZE = 512 * 1024 * 1024
LIMIT = 100 * 1024 * 1024

SCRIPT = textwrap.dedent(
    """
    import hashlib, io, json, resource, sys
    from storages_base.testing import setup_django
    setup_django()
    from storages_sftp import SFTPStorage

    config = json.loads(sys.argv[1])
    size = config.pop("size")

    class Zeros(io.RawIOBase):
        # A stream of pseudo-random blocks that is never held whole in memory.
        def __init__(self):
            self.left = size
            self.block = hashlib.sha512(b"seed").digest() * 1024  # 64 KiB
        def readable(self):
            return True
        def readinto(self, buffer):
            n = min(len(buffer), self.left, len(self.block))
            buffer[:n] = self.block[:n]
            self.left -= n
            return n

    def peak():
        # VmHWM is this process image's peak RSS. getrusage's ru_maxrss is not: Linux
        # carries the parent's peak over fork and exec, so a child of a big pytest
        # process would report pytest's memory.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    storage = SFTPStorage(**config)
    storage.exists("warm-up")  # connect first: the baseline includes paramiko's imports
    baseline = peak()
    storage.save("huge.bin", Zeros())
    after_save = peak()
    total = 0
    with storage.open("huge.bin") as f:
        for chunk in f.chunks():
            total += len(chunk)
    after_read = peak()
    source = Zeros()
    with storage.open("written.bin", "wb") as f:  # the streaming writer of open()
        while block := source.read(1024 * 1024):
            f.write(block)
    print(json.dumps({"baseline": baseline, "after_save": after_save,
                      "after_read": after_read, "after_write": peak(), "read": total,
                      "size": storage.size("huge.bin"),
                      "written": storage.size("written.bin")}))
    storage.close()
    """
)


def test_saving_reading_and_writing_512_mib_keeps_peak_memory_under_100_mib(sshd, root):
    from .conftest import params_for

    config = {
        "host": sshd["host"],
        "params": params_for(sshd),
        "known_host_file": sshd["known_host_file"],
        "root_path": str(root),
        "size": SIZE,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    base, saved, read, written = (
        numbers[k] / 2**20 for k in ("baseline", "after_save", "after_read", "after_write")
    )
    print(
        f"peak RSS MiB: baseline {base:.1f}, after save {saved:.1f}, after read {read:.1f}, "
        f"after open('wb') {written:.1f}"
    )
    assert numbers["size"] == SIZE
    assert numbers["read"] == SIZE
    assert numbers["written"] == SIZE
    assert numbers["after_write"] < LIMIT
    if sshd["server"] is not None:
        assert Path(root, "huge.bin").stat().st_size == SIZE
        os.remove(Path(root, "huge.bin"))
        os.remove(Path(root, "written.bin"))
