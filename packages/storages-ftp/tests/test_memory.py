"""Memory stays bounded by a buffer, not by the file: a 512 MiB round trip in a subprocess.

The client runs in a fresh interpreter so its peak RSS (``ru_maxrss``) is its own; the
data is generated as a stream there and checked by hash on the way back, never held.
"""

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SIZE = 512 * 1024 * 1024
LIMIT = 100 * 1024 * 1024

CLIENT = textwrap.dedent(
    """
    import hashlib, io, json, os, resource, sys, time
    from storages_base.testing import setup_django
    setup_django()
    from django.core.files.base import File
    from storages_ftp import FTPStorage

    location, size = sys.argv[1], int(sys.argv[2])
    BLOCK = os.urandom(1024 * 1024)

    class Generated(io.RawIOBase):
        # Reproducible bytes made as they are read; hashes what it hands out.
        def __init__(self):
            self.pos, self.sent = 0, hashlib.sha256()
        def readable(self): return True
        def seekable(self): return True
        def tell(self): return self.pos
        def seek(self, offset, whence=0):
            self.pos = {0: 0, 1: self.pos, 2: size}[whence] + offset
            self.sent = hashlib.sha256() if self.pos == 0 else self.sent
            return self.pos
        def readinto(self, buffer):
            count = min(len(buffer), size - self.pos, len(BLOCK) - self.pos % len(BLOCK))
            start = self.pos % len(BLOCK)
            chunk = BLOCK[start:start + count]
            buffer[:count] = chunk
            self.sent.update(chunk)
            self.pos += count
            return count

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def hwm():  # the kernel's own high-water mark of this image, for comparison
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    storage = FTPStorage(location=location, allow_overwrite=True)
    storage.exists("warm-up")  # imports and a session: the baseline
    baseline = peak()
    source = Generated()
    started = time.monotonic()
    name = storage.save("big.bin", File(io.BufferedReader(source), name="big.bin"))
    saved = time.monotonic()
    after_save = peak()
    received, count = hashlib.sha256(), 0
    with storage.open(name, "rb") as file:
        while chunk := file.read(1024 * 1024):
            received.update(chunk)
            count += len(chunk)
    read = time.monotonic()
    print(json.dumps({
        "baseline": baseline, "after_save": after_save, "peak": peak(), "hwm": hwm(),
        "size": storage.size(name), "read": count,
        "same": received.hexdigest() == source.sent.hexdigest(),
        "save_s": round(saved - started, 2), "read_s": round(read - saved, 2),
    }))
    """
)


def test_a_512_mib_save_and_read_keep_peak_memory_under_100_mib(ftp_server, folder):
    location = ftp_server.location(f"/{folder.name}")
    # Linux carries a process's peak RSS over exec(), and a child started straight from
    # pytest would begin with pytest's own peak. A shell that forks the client (the
    # "; exit" keeps it from exec'ing in place) gives it a small starting point.
    result = subprocess.run(
        ["/bin/sh", "-c", '"$0" "$@"; exit $?', sys.executable, "-c", CLIENT, location, str(SIZE)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    try:
        assert numbers["size"] == SIZE
        assert numbers["read"] == SIZE
        assert numbers["same"] is True
        assert (folder / "big.bin").stat().st_size == SIZE
        print(
            f"\n512 MiB round trip: peak RSS {numbers['peak'] / 2**20:.1f} MiB "
            f"(baseline {numbers['baseline'] / 2**20:.1f} MiB, after save "
            f"{numbers['after_save'] / 2**20:.1f} MiB, VmHWM {numbers['hwm'] / 2**20:.1f} MiB); "
            f"save {numbers['save_s']} s, "
            f"read {numbers['read_s']} s"
        )
        assert numbers["peak"] < LIMIT, numbers
    finally:
        (folder / "big.bin").unlink(missing_ok=True)
