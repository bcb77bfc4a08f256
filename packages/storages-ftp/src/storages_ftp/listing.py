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

__all__ = [
    "Entry",
    "parse_facts",
    "parse_list",
    "parse_list_line",
    "parse_mlst",
    "parse_names",
]

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
    """Parse an MDTM/MLST time (``YYYYMMDDHHMMSS[.fff]``, always UTC).

    Read by slicing: a listing has one per line, and ``re`` + ``strptime`` cost
    about 10 us each (a 200-file MLSD spent most of its CPU there).
    """
    value = value.strip()
    stamp, dot, fraction = value.partition(".")
    if len(stamp) != 14 or not stamp.isascii() or not stamp.isdigit():
        return None
    if dot and not (0 < len(fraction) <= 6 and fraction.isascii() and fraction.isdigit()):
        return None
    try:
        return datetime(
            int(stamp[:4]),
            int(stamp[4:6]),
            int(stamp[6:8]),
            int(stamp[8:10]),
            int(stamp[10:12]),
            int(stamp[12:14]),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=timezone.utc,
        )
    except ValueError:  # e.g. month 13, or the leap second 60 that strptime also refused
        return None


def _split_facts(line: str) -> tuple[str, str] | None:
    """Split an MLSD line into its facts and its name; None when it has no name."""
    facts, sep, name = line.rstrip("\r\n").partition(" ")
    if not sep or not name:
        return None
    return facts, name


def _kind(facts: str) -> str | None:
    """The ``type`` fact, lowercased: ``"file"`` or ``"dir"``; None for anything else."""
    low = facts.lower()
    at = low.find(";type=")
    start = 5 if low.startswith("type=") else at + 6 if at >= 0 else -1
    if start >= 0:  # found: no split into facts (a miss used to read from byte 5)
        end = low.find(";", start)
        kind = low[start:] if end < 0 else low[start:end]
        return kind if kind in (FILE, FOLDER) else None
    for fact in facts.split(";"):  # spaces around the key, as some servers write
        key, eq, value = fact.partition("=")
        if eq and key.strip().lower() == "type":
            kind = value.lower()
            return kind if kind in (FILE, FOLDER) else None
    return None


def parse_facts(line: str) -> Entry | None:
    """Parse one MLSD line (``type=file;size=3;modify=...; name``); None for others.

    Only files and folders are returned: ``cdir``/``pdir`` (``.``, ``..``) and links
    are skipped, as the target's kind is unknown.
    """
    split = _split_facts(line)
    if split is None:
        return None
    kind = size = sizd = modify = None
    for fact in split[0].split(";"):
        key, eq, value = fact.partition("=")
        if not eq:
            continue
        key = key.strip().lower()
        if key == "type":
            kind = value.lower()
        elif key == "size":
            size = value
        elif key == "sizd":
            sizd = value
        elif key == "modify":
            modify = value
    if kind not in (FILE, FOLDER):
        return None
    size = size or sizd
    return Entry(
        name=split[1],
        kind=kind,
        size=int(size) if size and size.isdigit() else None,
        modified=parse_time(modify) if modify else None,
    )


def parse_names(lines: Iterable[str]) -> list[tuple[str, bool]]:
    """``(name, is a folder)`` for each file and folder of MLSD output.

    What ``listdir`` needs, without the sizes and times :func:`parse_facts` builds:
    a 200-file listing cost 5x the classic backend's CPU before this.
    """
    found: list[tuple[str, bool]] = []
    append = found.append
    for line in lines:
        facts, _, name = line.rstrip("\r\n").partition(" ")
        if not name:
            continue
        # The type fact, lowercase, first (vsftpd, ProFTPD) or last (pyftpdlib, which sorts
        # the facts): no lowercasing, search or call. Any other form: _kind.
        if facts.startswith("type=file;") or facts.endswith(";type=file;"):
            append((name, False))
        elif facts.startswith("type=dir;") or facts.endswith(";type=dir;"):
            append((name, True))
        elif (kind := _kind(facts)) is not None:
            append((name, kind == FOLDER))
    return found


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
