"""Prove each package stands alone, as ``pip install storages-<provider>`` would have it.

For every package with tests: build its wheel and sdist, install only the
storages-base wheel and its own wheel into a fresh virtual environment (its SDK
comes from the index), import it, check that no other provider's SDK came along,
then install its ``test`` dependency group and run its own tests there (all but the
slow ones: the workspace run has those, and they would double the command's time).
Three packages at a time (``STORAGES_TEST_JOBS``).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from parallel import ARTIFACTS, ROOT, Job, longest_first, run_jobs, step, workers

#: Import names of each provider's SDK; none may arrive with another provider.
SDKS = {
    "storages-s3": ["boto3", "botocore"],
    "storages-gcs": ["google.cloud.storage"],
    "storages-azure": ["azure.storage.blob"],
    "storages-dropbox": ["dropbox"],
    "storages-ftp": [],
    "storages-sftp": ["paramiko"],
    "storages-libcloud": ["libcloud"],
    "storages-base": [],
    # The compat distribution's test project uses the S3, FTP and SFTP providers.
    "storages-compat": ["boto3", "botocore", "paramiko"],
}

#: Packages installed next to a package for its import check and tests.
COMPANIONS = {"storages-compat": ["storages-s3", "storages-ftp", "storages-sftp"]}
#: Import names that are not the distribution name with "_" for "-".
MODULES = {"storages-compat": "storages"}

CHECK = """
import importlib, importlib.util, sys
own, others = sys.argv[1], sys.argv[2:]
importlib.import_module(own)
def present(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
found = [name for name in others if present(name)]
if found:
    sys.exit(f"{own} brought other providers' SDKs: {', '.join(found)}")
import django
print(f"{own} imports alone (Django {django.__version__}, Python {sys.version.split()[0]})")
"""


def build(package: str, dist: Path) -> tuple[Path, Path]:
    """Build ``package``'s wheel and sdist into ``dist``; their paths."""
    subprocess.run(
        ["uv", "build", "--quiet", "--package", package, "--out-dir", dist], check=True, cwd=ROOT
    )
    stem = package.replace("-", "_")
    wheels = sorted(dist.glob(f"{stem}-*.whl"))
    sdists = sorted(dist.glob(f"{stem}-*.tar.gz"))
    if not wheels or not sdists:
        raise SystemExit(f"{package}: uv build made no wheel or no sdist")
    return wheels[-1], sdists[-1]


def build_all() -> dict[str, Path]:
    """Every package's wheel, by distribution name."""
    dist = ARTIFACTS / "dist"
    names = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
    return {name: build(name, dist)[0] for name in names}


def has_tests(package: str) -> bool:
    return any((ROOT / "packages" / package / "tests").glob("test_*.py"))


def check_package(package: str, out: TextIO, *, wheels: dict[str, Path], python: str) -> bool:
    """Install ``package`` alone in a fresh venv, check its imports, run its tests."""
    venv = ARTIFACTS / f"venv-{package}"
    py = venv / "bin" / "python"
    needed = {wheels["storages-base"], wheels[package]}
    needed |= {wheels[companion] for companion in COMPANIONS.get(package, [])}
    module = MODULES.get(package, package.replace("-", "_"))
    others = [sdk for name, sdks in SDKS.items() if name != package for sdk in sdks]
    others = [sdk for sdk in others if sdk not in SDKS.get(package, [])]
    steps: list[list[str | Path]] = [
        ["uv", "venv", "--quiet", "--clear", "--python", python, venv],
        ["uv", "pip", "install", "--quiet", "--python", py, *sorted(needed)],
        [py, "-c", CHECK, module, *others],
    ]
    if has_tests(package):
        pyproject = ROOT / "packages" / package / "pyproject.toml"
        report = ARTIFACTS / f"independent-{package}.xml"
        steps += [
            ["uv", "pip", "install", "--quiet", "--python", py, "--group", f"{pyproject}:test"],
            # Not the slow tests: the workspace run has them; here the package's standing
            # alone is what is tested.
            [py, "-m", "pytest", f"packages/{package}/tests", "-q", "-m", "not slow",
             f"--junitxml={report}"],
        ]  # fmt: skip
    return all(step(out, *command) for command in steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs")
    parser.add_argument("packages", nargs="*", help="only these packages")
    args = parser.parse_args()
    wheels = build_all()
    jobs: list[Job] = [
        (package, partial(check_package, package, wheels=wheels, python=args.python))
        for package in longest_first(args.packages or wheels)
    ]
    return 0 if run_jobs(jobs, "{} alone", "independent", workers(3)) else 1


if __name__ == "__main__":
    importlib.invalidate_caches()
    sys.exit(main())
