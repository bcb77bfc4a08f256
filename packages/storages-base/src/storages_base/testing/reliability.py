"""RELIABILITY.md, held to what the tests ran: a row states figures, a test confirms them.

Each reliability test ends with ``confirm(provider, row, figures)`` once its assertions
passed. ``confirm`` fails the test unless RELIABILITY.md (at the repository root) has, under
``## <provider>``, a row whose first cell is ``row``, whose second cell is ``figures``
exactly and whose last cell is ``pass``. So the document cannot claim a number the tests
did not run. With ``STORAGES_RELIABILITY_LOG`` set (the full test command sets it),
each confirmation is appended to that file, and ``scripts/reliability.py`` then fails the
run if a row of the document was confirmed by no test: no row outlives its test either.

Outside a checkout (a package's tests run from an installed wheel elsewhere) there is no
document to hold to, and ``confirm`` only logs.
"""

from __future__ import annotations

import os
from pathlib import Path

DOCUMENT = "RELIABILITY.md"
LOG_VARIABLE = "STORAGES_RELIABILITY_LOG"

# The five checks every provider section must have at least one row for; a row's first
# cell starts with one of these (then optionally ": detail", e.g. "1. Faults: proxy").
CHECKS = ("1. Faults", "2. Concurrency", "3. Hostile names", "4. Secrets", "5. Integrity")
PROVIDERS = ("S3", "GCS", "Azure", "Dropbox", "FTP", "SFTP", "Libcloud")


def find_document(start: Path | None = None) -> Path | None:
    """Return RELIABILITY.md of the checkout holding ``start`` (default: the cwd), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DOCUMENT
        if candidate.is_file():
            return candidate
    return None


def read_rows(text: str) -> dict[tuple[str, str], list[str]]:
    """Map (provider, first cell) to the row's cells, for every table row under a ``## `` head."""
    rows: dict[tuple[str, str], list[str]] = {}
    provider = ""
    for line in text.splitlines():
        if line.startswith("## "):
            provider = line[3:].strip()
            continue
        if not (provider and line.startswith("|") and line.endswith("|")):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not cells or cells[0] in ("check", "") or set(cells[0]) <= set("-: "):
            continue
        rows[(provider, cells[0])] = cells
    return rows


def confirm(provider: str, row: str, figures: str) -> None:
    """Assert the document states ``figures`` for ``row`` of ``provider``, and log that it did."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {PROVIDERS}")
    if not row.startswith(CHECKS):
        raise ValueError(f"row {row!r} must start with one of {CHECKS}")
    document = find_document()
    if document is not None:
        cells = read_rows(document.read_text(encoding="utf-8")).get((provider, row))
        expected = f"| {row} | {figures} | pass |"
        where = f"{document}, '## {provider}'"
        assert cells is not None, f"{where} has no row {row!r}: add\n{expected}"
        stated = f"{where}, row {row!r} says {cells[1:]!r}; the test ran:\n{expected}"
        assert cells[1] == figures, stated
        assert cells[-1] == "pass", stated
    log = os.environ.get(LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{provider}\t{row}\n")


def unconfirmed(document: Path, log: Path) -> list[str]:
    """Return the problems of a run: rows no test confirmed, checks a provider lacks."""
    rows = read_rows(document.read_text(encoding="utf-8"))
    confirmed = set()
    if log.is_file():
        for line in log.read_text(encoding="utf-8").splitlines():
            provider, _, row = line.partition("\t")
            confirmed.add((provider, row))
    unseen = [key for key in rows if key not in confirmed]
    problems = [f"{p}: row {r!r} was confirmed by no test" for p, r in unseen]
    for provider in PROVIDERS:
        for check in CHECKS:
            if not any(p == provider and r.startswith(check) for p, r in rows):
                problems.append(f"{provider}: no row for {check!r}")
    return problems
