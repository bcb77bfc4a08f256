"""Test each package at the lowest versions its ``pyproject.toml`` allows.

The floors we declare are the versions a user may have, so they are the versions we
test: for every package with tests, a fresh virtual environment gets the package's and
storages-base's wheels with their own dependencies resolved lowest-first (uv's
``lowest-direct``: Django 5.2 at the lowest patch the floor allows, boto3 and botocore
at their floors...), then the package's ``test`` group (newest test tools, never moving
a pinned dependency), then its tests. Packages run in parallel, each against its own
servers on 127.0.0.1; the slow tests are left to the workspace run.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

import tomllib
from independence import COMPANIONS, build_all, has_tests
from parallel import ARTIFACTS, ROOT, Job, longest_first, run_jobs, step, workers

#: Distributions whose installed version each run prints (what was really tested).
SHOWN = (
    "django",
    "boto3",
    "botocore",
    "paramiko",
    "google-cloud-storage",
    "azure-storage-blob",
    "dropbox",
    "apache-libcloud",
)

#: Packages whose floors are not yet what works, with what was found (left to their authors;
#: each is listed, never silently dropped). Remove an entry once its floors pass.
PENDING: dict[str, str] = {}


def dependencies(package: str) -> list[str]:
    """The package's own requirements on other distributions (not on our packages)."""
    project = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    return [dep for dep in project["project"]["dependencies"] if not dep.startswith("storages-")]


def check_lowest(package: str, out: TextIO, *, wheels: dict[str, Path], python: str) -> bool:
    """Install ``package`` at its lowest versions and run its tests."""
    venv = ARTIFACTS / f"lowest-{package}"
    py = venv / "bin" / "python"
    members = ["storages-base", package, *COMPANIONS.get(package, [])]
    requirements = [req for member in dict.fromkeys(members) for req in dependencies(member)]
    pins = venv / "pins.txt"
    return (
        step(out, "uv", "venv", "--quiet", "--clear", "--python", python, venv)
        and step(out, "uv", "pip", "install", "--quiet", "--python", py, "--resolution",
                 "lowest-direct", *sorted(str(wheels[m]) for m in dict.fromkeys(members)),
                 *requirements)
        and step(out, "sh", "-c", f"uv pip freeze --python {py} > {pins}")
        and step(out, "uv", "pip", "install", "--quiet", "--python", py, "-c", pins,
                 "--group", f"{ROOT / 'packages' / package / 'pyproject.toml'}:test")
        and step(out, "uv", "pip", "show", "--python", py, *SHOWN, check=False)
        and step(out, py, "-m", "pytest", f"packages/{package}/tests", "-q", "-m", "not slow",
                 f"--junitxml={ARTIFACTS / f'lowest-{package}.xml'}")
    )  # fmt: skip


def versions(log: Path) -> str:
    """The ``Name: x / Version: y`` pairs ``uv pip show`` wrote to ``log``."""
    names, shown = [], []
    for line in log.read_text().splitlines():
        if line.startswith("Name: "):
            names.append(line[6:])
        elif line.startswith("Version: ") and names:
            shown.append(f"{names[-1]} {line[9:]}")
    return ", ".join(shown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs")
    parser.add_argument("packages", nargs="*", help="only these packages")
    args = parser.parse_args()
    ARTIFACTS.mkdir(exist_ok=True)
    wheels = build_all()
    chosen = [name for name in (args.packages or wheels) if has_tests(name)]
    for name in [name for name in chosen if name in PENDING and not args.packages]:
        print(f"{name:20} NOT RUN: floors pending: {PENDING[name]}")
        chosen.remove(name)
    jobs: list[Job] = [
        (package, partial(check_lowest, package, wheels=wheels, python=args.python))
        for package in longest_first(chosen)
    ]
    ok = run_jobs(jobs, "{} at its lowest versions", "lowest", workers(len(jobs)))
    for package in chosen:
        print(f"{package:20} tested at {versions(ARTIFACTS / f'lowest-{package}.log')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
