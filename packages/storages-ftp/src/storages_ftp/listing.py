"""Directory listings: MLSD/MLST facts (RFC 3659) and a tolerant ``LIST`` parser.

``LIST`` output is not standardised: servers print ``ls -l`` lines (Unix, and most
others), or the MS-DOS style of IIS. The parser reads both, skips what it cannot
read (``total 12``, banners), and never guesses a type it does not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

__all__ = ["Entry", "parse_facts", "parse_list", "parse_list_line", "parse_mlst"]

FILE, FOLDER = "file", "dir"


@dataclass(frozen=True)
class Entry:
    """One name in a folder: its kind (``"file"``, ``"dir"``), size and modified time."""

    name: str
    kind: str
    size: int | None = None
    modified: datetime | None = None

    @property
    def is_dir(self) -> bool:
        return self.kind == FOLDER


def parse_time(value: str) -> datetime | None:
    """Parse an MDTM/MLST time (``YYYYMMDDHHMMSS[.fff]``, always UTC)."""
    match = re.fullmatch(r"(\d{14})(?:\.(\d{1,6}))?", value.strip())
    if not match:
        return None
    stamp = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    fraction = match.group(2)
    return stamp.replace(microsecond=int(fraction.ljust(6, "0"))) if fraction else stamp


def parse_facts(line: str) -> Entry | None:
    """Parse one MLSD line (``type=file;size=3;modify=...; name``); None for others.

    Only files and folders are returned: ``cdir``/``pdir`` (``.``, ``..``) and links
    are skipped, as the target's kind is unknown.
    """
    facts_text, sep, name = line.rstrip("\r\n").partition(" ")
    if not sep or not name:
        return None
    facts: dict[str, str] = {}
    for fact in facts_text.split(";"):
        key, eq, value = fact.partition("=")
        if eq:
            facts[key.strip().lower()] = value
    kind = facts.get("type", "").lower()
    if kind not in (FILE, FOLDER):
        return None
    size = facts.get("size") or facts.get("sizd")
    return Entry(
        name=name,
        kind=kind,
        size=int(size) if size and size.isdigit() else None,
        modified=parse_time(facts.get("modify", "")),
    )


def parse_mlst(response: str) -> Entry | None:
    """Parse an MLST reply (``250-...`` / `` facts path`` / ``250 End``)."""
    for line in response.splitlines()[1:]:
        if line.startswith(" "):
            return parse_facts(line[1:])
    return None


_UNIX = re.compile(
    r"""^(?P<mode>[-dlbcpsDn?][-rwxsStTlL?]{9}\S*)\s+
    (?:\d+\s+)?                       # link count (missing on some servers)
    (?:\S+\s+){1,2}?                  # owner and group (group may be missing)
    (?P<size>\d+)\s+
    (?P<date>[A-Za-z]{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})
      |\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2})\s
    (?P<name>.+)$""",
    re.X,
)
_DOS = re.compile(
    r"""^(?P<date>\d{1,2}[-/]\d{1,2}[-/]\d{2,4})\s+
    (?P<time>\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?)\s+
    (?:(?P<dir><DIR>)|(?P<size>[\d,]+))\s+
    (?P<name>.+)$""",
    re.X,
)


def parse_list_line(line: str) -> Entry | None:
    """Parse one ``LIST`` line in Unix or MS-DOS/IIS format; None if it is neither."""
    line = line.rstrip("\r\n")
    unix = _UNIX.match(line)
    if unix:
        kind = {"d": FOLDER, "-": FILE}.get(unix.group("mode")[0])
        name = unix.group("name")
        if kind is None or name in (".", ".."):
            return None  # links, devices: the kind of the target is unknown
        return Entry(name=name, kind=kind, size=int(unix.group("size")))
    dos = _DOS.match(line)
    if dos:
        name = dos.group("name")
        if name in (".", ".."):
            return None
        if dos.group("dir"):
            return Entry(name=name, kind=FOLDER)
        return Entry(name=name, kind=FILE, size=int(dos.group("size").replace(",", "")))
    return None


def parse_list(lines: Iterable[str]) -> list[Entry]:
    """Parse ``LIST`` output, skipping lines that are not entries."""
    return [entry for line in lines if (entry := parse_list_line(line)) is not None]
