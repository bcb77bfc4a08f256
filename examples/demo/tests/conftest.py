"""Fixtures of the demo's tests: the demo site, started as ``manage.py demo`` would be."""

from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

DEMO = Path(__file__).resolve().parents[1]
REPO = DEMO.parents[1]
ARTIFACTS = REPO / ".artifacts"


def demo_env(**extra: str) -> dict[str, str]:
    """The environment of a demo process: ours, minus any other Django project's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEMO_", "DJANGO_"))}
    env.update(extra)
    return env


def manage(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the demo's manage.py with ``args``; return its output and status."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=DEMO,
        env=demo_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class DemoSite:
    """A running demo: its address, the storage line it printed, and its output so far."""

    url: str
    storage: str
    output: list[str] = field(default_factory=list)
    admin_password: str = ""

    @property
    def storage_endpoint(self) -> str | None:
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", self.storage)
        return match.group(1) if match else None


def start_demo(kind: str) -> Iterator[DemoSite]:
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", "0"],
        cwd=DEMO,
        env=demo_env(DEMO_STORAGE=kind, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output: list[str] = []
    url = storage = password = ""
    for line in proc.stdout:
        output.append(line)
        if line.startswith("Demo running at "):
            url = line.split()[-1]
        elif line.strip().startswith("storage:"):
            storage = line.split(":", 1)[1].strip()
        elif line.strip().startswith("admin:"):
            password = line.split()[-1]
            break
    if not url:
        proc.wait(10)
        pytest.fail("the demo did not start:\n" + "".join(output))
    site = DemoSite(url, storage, output, admin_password=password)
    drain = threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True)
    drain.start()
    try:
        yield site
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(name="manage")
def manage_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``manage(*args, **env)``: run the demo's manage.py in a process of its own."""
    return manage


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def artifacts() -> Path:
    """Where test artifacts are kept (``.artifacts/`` at the repository root)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def s3_demo() -> Iterator[DemoSite]:
    """The demo as the README starts it: S3 on moto, in the demo's own process."""
    yield from start_demo("s3")


@pytest.fixture(scope="session")
def azure_demo() -> Iterator[DemoSite]:
    """The demo on Azure Blob: Azurite started by the demo, a private container."""
    yield from start_demo("azure")


@pytest.fixture
def png_file(tmp_path: Path) -> Callable[[str, int], Path]:
    """Write a small PNG (different per seed) and return its path."""
    sys.path.insert(0, str(DEMO))
    try:
        from gallery.smoke import png
    finally:
        sys.path.remove(str(DEMO))

    def make(name: str, seed: int) -> Path:
        path = tmp_path / name
        path.write_bytes(png(160, 100, seed))
        return path

    return make
