"""The conformance suite fails on broken backends: its cases can fail, and name the bug.

Each broken backend below is MemoryStorage with one realistic bug; the suite runs on
it in a separate pytest process, and the cases that must catch the bug must fail.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

BROKEN = '''
import io
from urllib.parse import urljoin

import pytest
from storages_base.memory import MemoryStorage
from storages_base.testing import StorageContract


class IgnoresExclusive(MemoryStorage):
    """Claims conditional_create but replaces the file anyway."""
    def _write(self, request):
        request.exclusive = False
        super()._write(request)


class DeletesByPrefix(MemoryStorage):
    """Deletes every key starting with the name (a classic prefix-listing bug)."""
    def _delete(self, key):
        for other in list(self._memory.files):
            if other.startswith(key):
                self._memory.files.pop(other)


class ListsFullKeys(MemoryStorage):
    """Returns keys, not names relative to the folder asked."""
    def _list(self, prefix):
        folders, files = super()._list(prefix)
        return [prefix + f for f in folders], [prefix + f for f in files]


class UnquotedUrls(MemoryStorage):
    """Builds URLs without percent-encoding."""
    def _url(self, key, **kwargs):
        return urljoin(self.base_url, self._name_for_key(key))


class IgnoresOffset(MemoryStorage):
    """Claims ranged reads but always starts at byte 0."""
    def _read(self, key, offset=0):
        return super()._read(key, 0)


def factory(cls, bucket):
    return lambda **options: cls(**{"bucket": bucket, **options})


class TestIgnoresExclusive(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(IgnoresExclusive, "exclusive")


class TestDeletesByPrefix(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(DeletesByPrefix, "prefix")


class TestListsFullKeys(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(ListsFullKeys, "fullkeys")


class TestUnquotedUrls(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(UnquotedUrls, "urls")


class TestIgnoresOffset(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(IgnoresOffset, "offset")
'''

MUST_FAIL = {
    "TestIgnoresExclusive": [
        "test_non_overwriting_saves_pick_a_new_name_and_keep_both_contents",
        "test_concurrent_non_overwriting_saves_of_one_name_never_lose_a_file",
        "test_a_same_name_field_file_save_gets_a_new_name_when_not_overwriting",
    ],
    "TestDeletesByPrefix": ["test_deleting_a_file_leaves_names_that_share_its_prefix"],
    "TestListsFullKeys": [
        "test_listdir_returns_folders_and_files_relative_to_the_folder_asked",
        "test_nested_folders_are_created_implicitly",
        "test_storages_with_different_locations_do_not_see_each_others_files",
    ],
    "TestUnquotedUrls": ["test_url_percent_encodes_spaces_and_non_ascii_characters"],
    "TestIgnoresOffset": [
        "test_seek_then_read_returns_the_bytes_from_that_offset",
        "test_seeking_into_a_large_file_reads_its_middle_and_end",
    ],
}


@pytest.mark.slow
def test_the_suite_fails_the_cases_that_catch_each_bug(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from storages_base.testing import setup_django\n\nsetup_django()\n"
    )
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(BROKEN))
    report = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(tmp_path),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            f"--junitxml={report}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    failed: dict[str, set[str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            cls = case.get("classname", "").rsplit(".", 1)[-1]
            failed.setdefault(cls, set()).add(case.get("name", "").split("[")[0])
    for cls, cases in MUST_FAIL.items():
        missing = set(cases) - failed.get(cls, set())
        assert not missing, f"{cls}: these cases did not catch the bug: {sorted(missing)}"
