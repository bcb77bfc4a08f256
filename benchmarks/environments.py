"""The classic side's virtualenvs, and the equal terms both sides are measured on.

Every side-by-side benchmark (``run.py`` and the providers' own ``*_side_by_side.py``)
makes its baseline here and puts both environments on equal terms here, the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

#: The published release every baseline installs (RESULTS.md names it).
DJANGO_STORAGES = "1.14.6"


def classic_venv(venv: Path, extras: str, pinned: Iterable[str]) -> str:
    """Create or refresh ``venv`` with django-storages (``extras``: "s3,sftp", "" for none)
    and the workspace's own versions of ``pinned``; its interpreter.

    Pinned to what ``uv.lock`` installed here, so both sides run the same SDK and Django.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    requirement = f"django-storages{f'[{extras}]' if extras else ''}=={DJANGO_STORAGES}"
    pins = [f"{name}=={metadata.version(name)}" for name in pinned]
    install = ["uv", "pip", "install", "-q", "--python", str(python), requirement, *pins]
    subprocess.run(install, check=True)
    return str(python)


#: Run in each environment: compile every module it can import (outside the standard
#: library, which the interpreter's install compiled) and describe the environment.
_PREPARE = """
import compileall, importlib.metadata as m, importlib.util, json, os, sys
optional = [name for name in json.loads(sys.argv.pop(1)) if importlib.util.find_spec(name)]
base = os.path.realpath(sys.base_prefix)
paths = [p for p in sys.path if p and os.path.isdir(p) and not os.path.realpath(p).startswith(base)]
ok = all([compileall.compile_dir(p, quiet=2, workers=0) for p in paths])
versions = {}
for name in sys.argv[1:]:
    try:
        versions[name] = m.version(name)
    except m.PackageNotFoundError:
        versions[name] = None
executable = os.path.realpath(sys._base_executable)
print(json.dumps({"python": sys.version.split()[0], "executable": executable,
                  "paths": len(sys.path), "compiled": ok, "versions": versions,
                  "optional": optional}))
"""


def equal_terms(
    pythons: dict[str, str], pinned: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """Put both environments on equal terms before anything is measured; each described.

    Runs may set ``PYTHONDONTWRITEBYTECODE`` (no run may leave bytecode that the next one
    loads), so bytecode must exist beforehand, or one side compiles its SDK from source
    on every run: ``uv sync`` and ``uv pip`` do not compile and ``pip`` does. Both sides
    are compiled here, the same way, and must run the same interpreter and versions of
    ``pinned``. Each description's ``hidden`` lists the ``optional`` modules (imported by
    an SDK when present) that only that side has: the caller hides them from its runs.
    """
    described = {}
    for side, python in pythons.items():
        done = subprocess.run(
            [python, "-c", _PREPARE, json.dumps(list(optional)), *pinned],
            capture_output=True,
            text=True,
            check=True,
        )
        described[side] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, classic = described["ours"], described["classic"]
    for key in ("python", "executable", "versions"):
        if ours[key] != classic[key]:
            raise SystemExit(f"unequal environments: {key} {ours[key]} vs {classic[key]}")
    for side, other in (("ours", "classic"), ("classic", "ours")):
        only = set(described[side]["optional"]) - set(described[other]["optional"])
        described[side]["hidden"] = sorted(only)
    return described


def run_side(command: list[str], env: dict[str, str], what: str) -> dict[str, Any]:
    """Run one side's measuring process; the JSON object its last line prints.

    A side that fails stops the benchmark with its stderr (``what`` names it)."""
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode:
        raise SystemExit(f"{what} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
