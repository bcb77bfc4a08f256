"""Hostile names (issue 16, check 3): generated names against a real server.

Every name is saved, then used with open, exists, url, listdir and delete, by a storage
whose ``location`` is not empty. Each save either stores the file under a key inside
``location`` or is refused with SuspiciousFileOperation/ValueError; the other operations
answer (a result, or the contract's FileNotFoundError for a name naming no file) or are
refused the same way; and the server's own listing (the bucket's keys, the files on the
FTP/SFTP disk) never shows anything outside ``location``.

A provider's test calls :func:`check_hostile_names` with its storage and a function
listing the server side; the names come from :func:`hostile_names` (hypothesis,
derandomised) plus :data:`CLASSICS`, run as explicit examples.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ..errors import FolderNotEmptyError

__all__ = [
    "CLASSICS",
    "OPERATIONS",
    "HostileTally",
    "check_hostile_names",
    "disk_listing",
    "hostile_names",
]

REFUSED = (SuspiciousFileOperation, ValueError)
#: What the contract answers for a name that names no file (or no folder), and for
#: ``delete()`` of a folder holding files on a file server (FileSystemStorage's ENOTEMPTY).
NOT_THERE = (FileNotFoundError, NotADirectoryError, FolderNotEmptyError)
OPERATIONS = ("save", "open", "exists", "url", "listdir", "delete")

#: The nasty classics, run as explicit examples before the generated names.
CLASSICS: tuple[str, ...] = (
    "",
    ".",
    "..",
    "/",
    "\\",
    "...",
    "../escape.txt",
    "..\\escape.txt",
    "..//escape.txt",
    "./../escape.txt",
    "a/../../escape.txt",
    "a\\..\\..\\escape.txt",
    "a/b/../../../escape.txt",
    "a/..",
    "a/../..",
    "....//escape.txt",
    "/etc/passwd",
    "//server/share/escape.txt",
    "\\\\server\\share\\escape.txt",
    "C:\\Windows\\escape.txt",
    "~/escape.txt",
    "%2e%2e/escape.txt",
    "..%2fescape.txt",
    "nul\x00byte.txt",
    "../nul\x00.txt",
    "new\nline.txt",
    "carriage\r\nreturn.txt",
    "del\x7f.txt",
    "next\x85line.txt",
    "lone\ud800surrogate.txt",
    unicodedata.normalize("NFC", "café/résumé.txt"),
    unicodedata.normalize("NFD", "café/résumé.txt"),
    "\u212bngstrom.txt",  # ANGSTROM SIGN: NFC turns it into Å
    "\u202egnp.exe",  # right-to-left override
    "\ufeffbom.txt",
    "folder/",
    "folder//",
    "name.",
    "name/.",
    "name..",
    " ",
    "trailing space ",
    "x" * 300,
    "x" * 1100,
    "d/" * 300 + "f.txt",
    "../" * 50 + "escape.txt",
)

_PIECES = [
    "..",
    ".",
    "",
    "...",
    "a",
    "b.txt",
    ".hidden",
    " ",
    "café",
    "e\u0301",
    "\u212b",
    "文件",
    "\ufeff",
    "\u202e",
    "%2e%2e",
    "~",
    "C:",
]
_plain = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=10)
_segment = st.one_of(
    st.sampled_from(_PIECES),
    _plain,  # any printable character, "/" and "\\" included
    _plain,
    _plain,
    _plain,
    st.text(max_size=10),  # any character but a lone surrogate: NUL and controls too
    st.text(st.sampled_from("./\\\x00\n\x1f\x7f\x85"), max_size=6),
    st.integers(200, 300).map(lambda n: "n" * n),  # over a file system's 255 bytes
)
_separator = st.sampled_from(["/", "\\", "//", "/./", "\\.\\", "/../"])
_prefix = st.sampled_from(
    ["", "", "", "", "", "", "/", "\\", "//", "../", "..\\", "./", "C:\\", "~/"]
)
_suffix = st.sampled_from(["", "", "", "", "", "/", ".", "\\", "/.", "/..", " ", "\x00"])
_form = st.sampled_from([None, None, "NFC", "NFD", "NFKC", "NFKD"])


@st.composite
def hostile_names(draw: Any) -> str:
    """A name built of hostile pieces: ``..`` anywhere, absolute and UNC prefixes,
    backslashes, NUL and control characters, normalisation forms, long parts, a
    trailing "/" or ".", or nothing at all."""
    parts = draw(st.lists(_segment, max_size=4))
    name = draw(_prefix)
    for index, part in enumerate(parts):
        name += (draw(_separator) if index else "") + part
    name += draw(_suffix)
    form = draw(_form)
    return unicodedata.normalize(form, name) if form else name


@dataclass
class HostileTally:
    """What a run did: names tried, saves stored and refused, operations answered."""

    generated: int = 0
    examples: int = 0
    stored: int = 0
    refused: int = 0
    answered: int = 0
    operations_refused: int = 0
    listings: int = 0

    def figures(self) -> str:
        """The RELIABILITY.md row: computed from what ran.

        How many names were stored or refused is left out: Hypothesis draws on the
        constants of the code it finds loaded, so the names it generates (not their
        number) change with any change of that code and with what else was imported.
        """
        return (
            f"{self.generated} generated names + {self.examples} examples x "
            f"{len(OPERATIONS)} operations: each stored inside location or refused, "
            f"0 outside in the server listing taken after each name"
        )


def outside(entries: Iterable[str], prefix: str) -> list[str]:
    """Entries of a server listing not inside ``prefix`` ("media/sub/").

    Files are listed without, folders with a trailing "/"; the folders leading to
    ``prefix`` ("media/", "media/sub/") are allowed.
    """
    return [
        entry
        for entry in entries
        if not entry.startswith(prefix) and not (entry.endswith("/") and prefix.startswith(entry))
    ]


def disk_listing(top: str | os.PathLike[str]) -> Callable[[], list[str]]:
    """A ``listing`` of a folder on the server's disk (FTP, SFTP): every file and folder
    under ``top``, folders ending in "/", symlinks listed and not followed."""

    def listing() -> list[str]:
        entries = []
        for folder, folders, files in os.walk(top):
            relative = os.path.relpath(folder, top)
            relative = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            entries += [relative + name + "/" for name in folders]
            entries += [relative + name for name in files]
        return entries

    return listing


def check_hostile_names(
    storage: Any,
    listing: Callable[[], Iterable[str]],
    prefix: str,
    max_examples: int,
) -> HostileTally:
    """Run :data:`CLASSICS` and ``max_examples`` generated names against ``storage``.

    ``listing`` returns the server side: every key of the bucket or container (every
    file and folder, folders ending in "/", of the FTP/SFTP disk), relative to its
    root; ``prefix`` is where ``storage.location`` puts keys ("media/sub/"). The
    server must hold nothing at the start.
    """
    assert prefix.endswith("/"), "the prefix of a folder: ends with /"
    assert prefix.strip("/"), "use a non-empty location"
    tally = HostileTally()
    calls = [0]

    def look() -> list[str]:
        tally.listings += 1
        entries = list(listing())
        escaped = outside(entries, prefix)
        assert not escaped, f"written outside {prefix!r}: {escaped!r}"
        return [entry for entry in entries if not entry.endswith("/")]

    def one(name: str) -> None:
        calls[0] += 1
        _try_name(storage, name, look, tally)

    run = one
    for classic in reversed(CLASSICS):
        run = example(classic)(run)
    run = given(hostile_names())(run)
    run = settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=max_examples,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(run)
    run()
    tally.examples = len(CLASSICS)
    tally.generated = calls[0] - len(CLASSICS)
    return tally


def _try_name(storage: Any, name: str, look: Callable[[], list[str]], tally: HostileTally) -> None:
    """Save ``name`` and use it with every operation; leave the server empty."""
    variants = [name]
    if unicodedata.normalize("NFC", name) != unicodedata.normalize("NFD", name):
        # The same name in both forms: two files or one, never one lost silently.
        variants = [unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)]
    saved: dict[str, bytes] = {}
    for index, variant in enumerate(variants):
        content = f"hostile {index}".encode()
        try:
            stored = storage.save(variant, ContentFile(content))
        except REFUSED:
            tally.refused += 1
            continue
        except BaseException as error:
            raise AssertionError(
                f"save({variant!r}) raised {type(error).__name__}, not a refusal"
            ) from error
        tally.stored += 1
        assert isinstance(stored, str), stored
        saved[stored] = content
    files = look()
    assert len(files) == len(saved), f"saved {sorted(saved)!r}, the server holds {files!r}"
    for stored, content in saved.items():
        with storage.open(stored) as handle:
            assert handle.read() == content, f"{stored!r} read back other bytes"
    for variant in variants:
        for operation in OPERATIONS[1:]:
            _operate(storage, operation, variant, saved, tally)
    for stored in saved:
        storage.delete(stored)
    if saved:
        assert look() == [], "a saved file outlived its delete()"


def _operate(
    storage: Any, operation: str, name: str, saved: dict[str, bytes], tally: HostileTally
) -> None:
    try:
        if operation == "open":
            with storage.open(name) as handle:
                data = handle.read()
            assert data in saved.values(), f"open({name!r}) read bytes no save wrote"
        elif operation == "exists":
            assert isinstance(storage.exists(name), bool)
        elif operation == "url":
            assert isinstance(storage.url(name), str)
        elif operation == "listdir":
            folders, files = storage.listdir(name)
            assert isinstance(folders, list)
            assert isinstance(files, list)
        elif operation == "delete":
            storage.delete(name)
    except REFUSED:
        tally.operations_refused += 1
        return
    except NOT_THERE:
        pass
    except AssertionError:
        raise
    except BaseException as error:
        raise AssertionError(
            f"{operation}({name!r}) raised {type(error).__name__}: {error}"
        ) from error
    tally.answered += 1
