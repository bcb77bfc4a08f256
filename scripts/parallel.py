"""Run the test command's jobs side by side, each into its own log, printed as each ends.

Most of a provider's test time is spent waiting on its servers (sockets, handshakes,
timeouts under test), so two jobs on two cores take little more than the longer one.
Each job writes to its own log (never interleaved); a job's log is printed whole, under
its ``==>`` header with its duration, as soon as it ends.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".artifacts"

#: A job: its name and what it does with its log (True: it passed).
Job = tuple[str, Callable[[TextIO], bool]]


#: Seconds each run took alone on the 2-core machine (December 2026): the order of
#: the queues. A package not listed goes last.
MEASURED = {
    "storages-s3": 190,
    "storages-sftp": 120,
    "storages-azure": 107,
    "storages-ftp": 103,
    "storages-gcs": 83,
    "storages-libcloud": 66,
    "demo": 62,
    "storages-dropbox": 52,
    "storages-base": 25,
    "storages-compat": 10,
}


def longest_first(names: Iterable[str]) -> list[str]:
    """``names`` in the order that ends two or three lanes closest together."""
    return sorted(names, key=lambda name: -MEASURED.get(name, 0))


def workers(default: int = 2) -> int:
    """How many jobs run at once: ``STORAGES_TEST_JOBS``, else ``default``."""
    return max(1, int(os.environ.get("STORAGES_TEST_JOBS", default)))


def step(out: TextIO, *args: str | Path, check: bool = True) -> bool:
    """Run one command of a job with its output in the job's log; False if it failed."""
    shown = ("<script>" if "\n" in str(a) else str(a) for a in args)
    out.write(f"+ {' '.join(shown)}\n")
    out.flush()
    result = subprocess.run([str(a) for a in args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return result.returncode == 0 or not check


def run_jobs(jobs: Sequence[Job], header: str, prefix: str, jobs_at_once: int) -> bool:
    """Run ``jobs`` (longest first, as given), print each log under ``header.format(name)``."""
    ARTIFACTS.mkdir(exist_ok=True)

    def one(job: Job) -> tuple[bool, Path, float]:
        name, work = job
        log = ARTIFACTS / f"{prefix}-{name}.log"
        started = time.monotonic()
        with log.open("w") as out:
            try:
                ok = work(out)
            except Exception as exc:  # a job's own failure, reported like a failed test run
                out.write(f"\n{name}: FAILED ({exc!r})\n")
                ok = False
        return ok, log, time.monotonic() - started

    ok = True
    with ThreadPoolExecutor(max(1, min(jobs_at_once, len(jobs)))) as pool:
        futures = {pool.submit(one, job): job[0] for job in jobs}
        for future in as_completed(futures):
            passed, log, seconds = future.result()
            status = "" if passed else ", FAILED"
            print(f"\n==> {header.format(futures[future])} ({seconds:.0f} s{status})", flush=True)
            print(log.read_text(), end="", flush=True)
            ok = ok and passed
    return ok
