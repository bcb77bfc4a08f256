"""The LIST parser and MLSD/MLST facts, on samples of real servers' output."""

from datetime import datetime, timezone

import pytest

from storages_ftp.listing import (
    Entry,
    parse_facts,
    parse_list,
    parse_list_line,
    parse_mlst,
    parse_names,
    parse_time,
)

UNIX_LISTING = """\
total 24
drwxr-xr-x   2 www-data www-data     4096 Nov 25 04:50 .
drwxr-xr-x   5 www-data www-data     4096 Nov 25 04:50 ..
drwxr-xr-x   2 www-data www-data     4096 Nov 25 04:50 photos
-rw-r--r--   1 www-data www-data    12345 Jan  3  2023 report 2023.pdf
-rw-r--r--   1 1000     1000           17 Nov 25 04:50 numeric-owner.txt
-rw-r--r--   1 ftp          42 Feb 29 12:00 no-group.txt
-rw-r--r--+  1 owner group           7 Nov 25 04:50 with-acl.txt
lrwxrwxrwx   1 owner group          11 Nov 25 04:50 latest -> photos/a.jpg
crw-rw-rw-   1 root  root       1,   3 Nov 25 04:50 null
-rw-r--r--   1 owner group           0 Nov 25 04:50  leading space.txt
"""

# IIS in its default "MS-DOS" directory listing style.
WINDOWS_LISTING = """\
11-25-24  04:50AM       <DIR>          photos
01-03-23  01:15PM                12345 report 2023.pdf
02-29-2024  12:00                   42 four-digit-year.txt
11-25-24  04:50AM            1,234,567 thousands.bin
"""


def test_a_unix_listing_yields_files_and_folders_with_their_sizes():
    entries = {entry.name: entry for entry in parse_list(UNIX_LISTING.splitlines())}
    assert entries["photos"] == Entry("photos", "dir", size=4096)
    assert entries["report 2023.pdf"] == Entry("report 2023.pdf", "file", size=12345)
    assert entries["numeric-owner.txt"].size == 17
    assert entries["no-group.txt"].size == 42
    assert entries["with-acl.txt"].kind == "file"
    assert entries[" leading space.txt"].size == 0


def test_a_unix_listing_skips_dot_entries_links_devices_and_the_total_line():
    names = [entry.name for entry in parse_list(UNIX_LISTING.splitlines())]
    assert "." not in names
    assert ".." not in names
    assert "latest" not in names
    assert "latest -> photos/a.jpg" not in names
    assert "null" not in names
    assert not any(name.startswith("total") for name in names)
    assert len(names) == 6


def test_an_iis_listing_yields_files_and_folders_with_their_sizes():
    entries = {entry.name: entry for entry in parse_list(WINDOWS_LISTING.splitlines())}
    assert entries == {
        "photos": Entry("photos", "dir"),
        "report 2023.pdf": Entry("report 2023.pdf", "file", size=12345),
        "four-digit-year.txt": Entry("four-digit-year.txt", "file", size=42),
        "thousands.bin": Entry("thousands.bin", "file", size=1234567),
    }


@pytest.mark.parametrize(
    "line",
    ["", "total 0", "226 Transfer complete", "garbage without structure", "-rw-r--r-- 1 x"],
)
def test_lines_that_are_not_entries_are_ignored(line):
    assert parse_list_line(line) is None


def test_line_endings_are_not_part_of_the_name():
    entry = parse_list_line("-rw-r--r-- 1 a b 3 Nov 25 04:50 name.txt\r\n")
    assert entry is not None
    assert entry.name == "name.txt"


def test_mlsd_facts_give_kind_size_and_utc_modified_time():
    entry = parse_facts("type=file;size=11;modify=20261125045000.123;perm=r; name with; semicolons")
    assert entry == Entry(
        "name with; semicolons",
        "file",
        size=11,
        modified=datetime(2026, 11, 25, 4, 50, 0, 123000, tzinfo=timezone.utc),
    )
    assert parse_facts("Type=dir;Modify=20261125045000; photos").kind == "dir"


@pytest.mark.parametrize(
    "line", ["type=cdir;modify=20261125045000; .", "type=pdir; ..", "type=OS.unix=slink:/x; l"]
)
def test_mlsd_skips_the_folder_itself_its_parent_and_links(line):
    assert parse_facts(line) is None


def test_an_mlst_reply_is_read_from_its_indented_line():
    reply = "250-Listing a/b.txt\r\n type=file;size=3;modify=20261125045000; /a/b.txt\r\n250 End."
    entry = parse_mlst(reply)
    assert entry is not None
    assert (entry.kind, entry.size) == ("file", 3)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("type=file;size=1;modify=20261125045000; a.txt", ("a.txt", False)),
        ("modify=20261205062036;size=2;type=file; f076.txt", ("f076.txt", False)),  # pyftpdlib
        ("size=0;type=dir; sub", ("sub", True)),
        ("perm=el;mediatype=file; x", None),
        ("abcdefile; x", None),
        ("Size=1;TYPE=Dir;perm=el; photos", ("photos", True)),
        ("size=1;type=file; name with; semicolons", ("name with; semicolons", False)),
        ("type=cdir; .", None),
        ("type=OS.unix=slink:/x; l", None),
        ("size=1;modify=20261125045000; no type", None),
        ("type=file;", None),
    ],
)
def test_names_read_only_the_kind_and_agree_with_the_full_parser(line, expected):
    assert parse_names([line]) == ([expected] if expected else [])
    entry = parse_facts(line)
    assert (None if entry is None else (entry.name, entry.is_dir)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20261125045000", datetime(2026, 11, 25, 4, 50, tzinfo=timezone.utc)),
        (" 20261125045000.5 ", datetime(2026, 11, 25, 4, 50, 0, 500000, tzinfo=timezone.utc)),
        ("20261125045000.123456", datetime(2026, 11, 25, 4, 50, 0, 123456, tzinfo=timezone.utc)),
        ("20261125045000.1234567", None),
        ("20261125045000.", None),
        ("2026112504500", None),
        ("20261325045000", None),
        ("2026112504500x", None),
        ("", None),
    ],
)
def test_times_are_read_by_slicing_and_refused_when_malformed(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("feat", "argument"),
    [
        ("type*;perm*;size*;modify*;unique*;unix.mode;unix.uid;", "type;size;modify;"),
        ("Type*;Size*;Modify*;Perm*;", "Type;Size;Modify;"),
        ("type*;size*;modify*;unix.mode;", ""),  # nothing unread is sent: no OPTS
        ("type*;sizd*;perm*;", "type;sizd;"),
        ("", ""),
    ],
)
def test_opts_mlst_asks_only_for_the_facts_read(feat, argument):
    from storages_ftp.session import _fewer_facts

    assert _fewer_facts(feat) == argument
