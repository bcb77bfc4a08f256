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
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tomllib
from independence import ARTIFACTS, COMPANIONS, ROOT, build, has_tests

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


def check_lowest(package: str, wheels: dict[str, Path], python: str) -> tuple[bool, str]:
    """Install ``package`` at its lowest versions and run its tests; (ok, log path)."""
    venv = ARTIFACTS / f"lowest-{package}"
    log = ARTIFACTS / f"lowest-{package}.log"
    py = venv / "bin" / "python"
    members = ["storages-base", package, *COMPANIONS.get(package, [])]
    requirements = [req for member in dict.fromkeys(members) for req in dependencies(member)]
    pins = venv / "pins.txt"
    steps: list[list[str]] = [
        ["uv", "venv", "--quiet", "--clear", "--python", python, str(venv)],
        ["uv", "pip", "install", "--quiet", "--python", str(py), "--resolution", "lowest-direct",
         *sorted(str(wheels[m]) for m in dict.fromkeys(members)), *requirements],
        ["sh", "-c", f"uv pip freeze --python {py} > {pins}"],
        ["uv", "pip", "install", "--quiet", "--python", str(py), "-c", str(pins),
         "--group", f"{ROOT / 'packages' / package / 'pyproject.toml'}:test"],
        ["uv", "pip", "show", "--python", str(py), *SHOWN],
        [str(py), "-m", "pytest", f"packages/{package}/tests", "-q", "-m", "not slow",
         f"--junitxml={ARTIFACTS / f'lowest-{package}.xml'}"],
    ]  # fmt: skip
    with log.open("w") as out:
        for step in steps:
            out.write(f"+ {' '.join(step)}\n")
            out.flush()
            result = subprocess.run(step, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            if result.returncode != 0 and step[:3] != ["uv", "pip", "show"]:
                return False, str(log)
    return True, str(log)


def versions(log: str) -> str:
    """The ``Name: x / Version: y`` pairs ``uv pip show`` wrote to ``log``."""
    names, shown = [], []
    for line in Path(log).read_text().splitlines():
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
    dist = ARTIFACTS / "dist"
    names = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
    wheels = {name: build(name, dist)[0] for name in names}
    chosen = [name for name in (args.packages or names) if has_tests(name)]
    for name in [name for name in chosen if name in PENDING and not args.packages]:
        print(f"{name:20} NOT RUN: floors pending: {PENDING[name]}")
        chosen.remove(name)
    started = time.monotonic()
    with ThreadPoolExecutor(len(chosen) or 1) as pool:
        outcomes = pool.map(lambda p: check_lowest(p, wheels, args.python), chosen)
        results = dict(zip(chosen, outcomes, strict=True))
    ok = True
    for package, (passed, log) in results.items():
        print(f"{package:20} {'ok    ' if passed else 'FAILED'} at {versions(log)}")
        if not passed:
            ok = False
            print("".join(Path(log).read_text().splitlines(keepends=True)[-40:]))
    print(f"lowest versions: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
