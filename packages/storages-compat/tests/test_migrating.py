"""MIGRATING.md: every statement names the test that covers it; those tests exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MIGRATING = ROOT / "MIGRATING.md"


def defined_tests() -> set[str]:
    sources = [*ROOT.glob("packages/*/tests/**/*.py")]
    sources += ROOT.glob("packages/storages-base/src/storages_base/testing/**/*.py")
    found: set[str] = set()
    for source in sources:
        found.update(re.findall(r"def (test_\w+)\(", source.read_text()))
    return found


def test_every_test_migrating_names_exists() -> None:
    named = set(re.findall(r"`(test_\w+)(?:\[[^\]]*\])?`", MIGRATING.read_text()))
    assert len(named) >= 30
    missing = sorted(named - defined_tests())
    assert missing == []


def test_every_section_names_a_test() -> None:
    text = MIGRATING.read_text()
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    # The lowest-versions section is covered by the run it describes (scripts/lowest.py).
    covered = ("test_", "scripts/lowest.py")
    untested = [s.splitlines()[0] for s in sections if not any(c in s for c in covered)]
    assert untested == []


def test_the_readme_links_it() -> None:
    assert "(MIGRATING.md)" in (ROOT / "README.md").read_text()
