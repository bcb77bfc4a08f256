"""Prove each package stands alone, as ``pip install storages-<provider>`` would have it.

For every package with tests: build its wheel and sdist, install only the
storages-base wheel and its own wheel into a fresh virtual environment (its SDK
comes from the index), import it, check that no other provider's SDK came along,
then install its ``test`` dependency group and run its own tests there (all but the
slow ones: the workspace run has those, and they would double the command's time).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".artifacts"

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


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    shown = ("<script>" if "\n" in str(a) else str(a) for a in args)
    print("+", " ".join(shown), flush=True)
    return subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def build(package: str, dist: Path) -> tuple[Path, Path]:
    run("uv", "build", "--quiet", "--package", package, "--out-dir", dist)
    stem = package.replace("-", "_")
    wheels = sorted(dist.glob(f"{stem}-*.whl"))
    sdists = sorted(dist.glob(f"{stem}-*.tar.gz"))
    if not wheels or not sdists:
        raise SystemExit(f"{package}: uv build made no wheel or no sdist")
    return wheels[-1], sdists[-1]


def has_tests(package: str) -> bool:
    return any((ROOT / "packages" / package / "tests").glob("test_*.py"))


def check_package(package: str, wheels: dict[str, Path], python: str) -> bool:
    venv = ARTIFACTS / f"venv-{package}"
    py = venv / "bin" / "python"
    run("uv", "venv", "--quiet", "--python", python, venv)
    needed = {wheels["storages-base"], wheels[package]}
    needed |= {wheels[companion] for companion in COMPANIONS.get(package, [])}
    run("uv", "pip", "install", "--quiet", "--python", py, *sorted(needed))
    module = MODULES.get(package, package.replace("-", "_"))
    others = [sdk for name, sdks in SDKS.items() if name != package for sdk in sdks]
    others = [sdk for sdk in others if sdk not in SDKS.get(package, [])]
    run(py, "-c", CHECK, module, *others)
    if not has_tests(package):
        print(f"{package}: imports alone; it has no tests yet")
        return True
    pyproject = ROOT / "packages" / package / "pyproject.toml"
    run("uv", "pip", "install", "--quiet", "--python", py, "--group", f"{pyproject}:test")
    result = subprocess.run(
        [
            str(py),
            "-m",
            "pytest",
            f"packages/{package}/tests",
            "-q",
            "-m",
            "not slow",  # the workspace run has them: here the package's standing alone is tested
            f"--junitxml={ARTIFACTS / f'independent-{package}.xml'}",
        ],
        cwd=ROOT,
    )
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs")
    parser.add_argument("packages", nargs="*", help="only these packages")
    args = parser.parse_args()
    dist = ARTIFACTS / "dist"
    packages = sorted(
        p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists()
    )
    wheels = {package: build(package, dist)[0] for package in packages}
    ok = True
    for package in args.packages or packages:
        print(f"\n==> {package} alone", flush=True)
        try:
            ok = check_package(package, wheels, args.python) and ok
        except subprocess.CalledProcessError as exc:
            print(f"{package}: FAILED ({exc})", flush=True)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    importlib.invalidate_caches()
    sys.exit(main())
