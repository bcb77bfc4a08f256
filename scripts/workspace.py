"""Run every package's tests (slow ones included) and the demo's, in the workspace.

Two at a time (``STORAGES_TEST_JOBS``), the longest first so the two lanes end together;
each writes ``.artifacts/workspace-<name>.xml`` for the summary.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from parallel import ARTIFACTS, ROOT, Job, longest_first, run_jobs, step, workers


def suites() -> dict[str, Path]:
    """Every test folder: each package's that has tests, and the demo's."""
    found = {
        package.name: package / "tests"
        for package in sorted((ROOT / "packages").iterdir())
        if any((package / "tests").glob("test_*.py"))
    }
    found["demo"] = ROOT / "examples" / "demo" / "tests"
    return found


def pytest_job(name: str, tests: Path) -> Job:
    def work(out: TextIO) -> bool:
        report = ARTIFACTS / f"workspace-{name}.xml"
        return step(out, sys.executable, "-m", "pytest", tests, "-q", f"--junitxml={report}")

    return name, work


def main() -> int:
    found = suites()
    if sys.argv[1:]:  # only these: ``scripts/workspace.py storages-s3 demo``
        found = {name: found[name] for name in sys.argv[1:]}
    jobs = [pytest_job(name, found[name]) for name in longest_first(found)]
    return 0 if run_jobs(jobs, "pytest {}", "workspace", workers()) else 1


if __name__ == "__main__":
    sys.exit(main())
