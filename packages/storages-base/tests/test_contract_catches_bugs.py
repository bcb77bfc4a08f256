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
import weakref
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
    def _object_url(self, key, *args, **kwargs):
        return urljoin(self.base_url, self._name_for_key(key))


class IgnoresOffset(MemoryStorage):
    """Claims ranged reads but always starts at byte 0."""
    def _read(self, key, offset=0):
        return super()._read(key, 0)


class AvailableNameUnchecked(MemoryStorage):
    """Issue 10 #1: get_available_name() left a taken name to the conditional create."""
    def get_available_name(self, name, max_length=None):
        return self._candidate_name(name, max_length)


class SavePassesMaxLength(MemoryStorage):
    """Issue 10 #2: save() passed max_length= to _save(), and _save took it."""
    def save(self, name, content, max_length=None):
        name = self._candidate_name(name, max_length)
        return self._save(name, content, max_length=max_length)

    def _save(self, name, content, max_length=None):
        try:
            return super()._save(name, content)
        except FileExistsError:
            return super()._save(self.get_available_name(name, max_length), content)


class ForgetsOwnWrite(MemoryStorage):
    """Issue 10 #3: a clash of a write sent again is taken for somebody else's file."""
    def _is_own_write(self, request, error):
        return False


class SuffixAfterSuffix(MemoryStorage):
    """Issue 10 #3: each new name was derived from the previous one."""
    def _next_name(self, wanted, clashed, max_length):
        return super()._next_name(clashed, clashed, max_length)


class _Unforgetting(weakref.WeakValueDictionary):
    def pop(self, key, *default):
        return self.get(key, *default)


class StaleReaderTimes(MemoryStorage):
    """Issue 10 #4: a reader's stat kept answering after the storage overwrote the file."""
    @property
    def _reading(self):
        return self.__dict__.setdefault("_stale_reading", _Unforgetting())


class OneWayRefused(MemoryStorage):
    """Issue 10 #5: a one-way upload to a taken name was not checked first."""
    def _finds_free_names_by_writing(self, content):
        return not self.file_overwrite


class DeletesBeforeCopy(MemoryStorage):
    """Issue 10 #6: storages_copy deleted the destination before saving over it."""
    def _save_over(self, name, content):
        self.delete(name)
        return super()._save_over(name, content)


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


class TestAvailableNameUnchecked(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(AvailableNameUnchecked, "availablename")


class TestSavePassesMaxLength(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(SavePassesMaxLength, "maxlength")


class TestForgetsOwnWrite(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(ForgetsOwnWrite, "ownwrite")


class TestSuffixAfterSuffix(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(SuffixAfterSuffix, "suffix")


class TestStaleReaderTimes(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(StaleReaderTimes, "stale")


class TestOneWayRefused(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(OneWayRefused, "oneway")


class TestDeletesBeforeCopy(StorageContract):
    @pytest.fixture
    def storage_factory(self):
        return factory(DeletesBeforeCopy, "copy")
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
    "TestAvailableNameUnchecked": [
        "test_get_available_name_returns_a_free_name_when_not_overwriting",
    ],
    "TestSavePassesMaxLength": [
        "test_a_subclass_overriding_save_with_djangos_signature_works",
    ],
    "TestForgetsOwnWrite": [
        "test_a_create_only_write_sent_again_after_a_lost_response_is_stored_once",
    ],
    "TestSuffixAfterSuffix": [
        "test_each_name_tried_after_a_clash_derives_from_the_name_asked_for",
    ],
    "TestStaleReaderTimes": [
        "test_modified_time_follows_an_overwrite_while_a_reader_is_open",
    ],
    "TestOneWayRefused": [
        "test_a_non_seekable_upload_to_a_taken_name_gets_a_free_name",
    ],
    "TestDeletesBeforeCopy": [
        "test_a_failed_copy_over_a_file_leaves_the_old_file_in_place",
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
