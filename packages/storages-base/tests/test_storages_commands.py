"""``storages_check``, ``storages_copy``, ``storages_sweep`` and the ``storages`` system
checks, on local storages.

The storages here are real ones that need no server: Django's FileSystemStorage on a
temporary folder and the in-memory reference backend. The S3 package runs the same
commands against moto (a 403, a wrong signature, a missing bucket, a copy to S3).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from storages_base.checks import check_storages, configured_storages
from storages_base.copy import facts, walk
from storages_base.management.commands import storages_check, storages_copy, storages_sweep

FS = "django.core.files.storage.FileSystemStorage"
MEMORY = "storages_base.memory.MemoryStorage"


def run(command: Any, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=out, no_color=True)
    return out.getvalue()


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Two local folders configured as the "default" and "archive" storages."""
    paths = {"default": tmp_path / "media", "archive": tmp_path / "archive"}
    for path in paths.values():
        path.mkdir()
    with override_settings(
        STORAGES={
            alias: {"BACKEND": FS, "OPTIONS": {"location": str(path)}}
            for alias, path in paths.items()
        }
    ):
        yield paths


@pytest.fixture
def memory_bucket() -> str:
    return "copy-" + secrets.token_hex(6)


def fill(storage: Any, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert storage.save(name, ContentFile(data)) == name


FILES = {
    "a.txt": b"alpha",
    "docs/b.txt": b"bravo" * 100,
    "docs/deep/c.bin": bytes(range(256)) * 40,
    "photos/d.png": b"\x89PNG" + b"x" * 3000,
}


# -- storages_check ----------------------------------------------------------------------


def test_check_runs_every_step_on_each_storage_and_leaves_nothing_behind(
    folders: dict[str, Path],
) -> None:
    output = run(storages_check.Command())

    for alias in ("default", "archive"):
        assert f"{alias}  django.core.files.storage.filesystem.FileSystemStorage" in output
    for step in ("save", "exists", "read", "size", "modified time", "listdir", "url", "delete"):
        assert output.count(f"  {step} ") == 2, step
    assert "fetch url" in output
    assert "not an http(s) URL" in output
    assert "All 2 storage(s) work." in output
    assert list(folders["default"].iterdir()) == []  # no file, no empty probe folder


def test_check_prints_the_time_of_each_step_in_milliseconds(folders: dict[str, Path]) -> None:
    output = run(storages_check.Command(), "default")

    save_line = next(line for line in output.splitlines() if line.strip().startswith("save"))
    assert " ms  ok" in save_line
    assert "archive" not in output


def test_check_fails_with_status_1_and_says_why_when_a_storage_cannot_write(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    out = io.StringIO()
    with (
        override_settings(
            STORAGES={"default": {"BACKEND": FS, "OPTIONS": {"location": str(blocker)}}}
        ),
        pytest.raises(CommandError, match="1 storage\\(s\\) failed: default") as failure,
    ):
        call_command(storages_check.Command(), stdout=out, no_color=True)

    assert failure.value.returncode == 1
    save_line = next(line for line in out.getvalue().splitlines() if "save" in line)
    assert "FAIL" in save_line
    assert "Error" in save_line  # the exception class and message are shown


def test_check_refuses_an_alias_that_is_not_configured(folders: dict[str, Path]) -> None:
    with pytest.raises(CommandError, match="Unknown storage alias nope; STORAGES has default"):
        run(storages_check.Command(), "nope")


def test_sweep_refuses_an_unknown_alias_and_a_backend_without_temporary_files(
    folders: dict[str, Path],
) -> None:
    """FTP's and SFTP's suites sweep what a killed client left on their real servers."""
    with pytest.raises(CommandError, match="Unknown storage alias nope; STORAGES has default"):
        run(storages_sweep.Command(), "nope")
    with pytest.raises(CommandError, match="default: this backend leaves no temporary files"):
        run(storages_sweep.Command(), "default")
    with pytest.raises(CommandError, match="--older-than must not be negative"):
        run(storages_sweep.Command(), "--older-than", "-1")
    assert run(storages_sweep.Command()) == (
        "No storage here leaves temporary files (FTP and SFTP do).\n"
    )


def test_check_works_on_the_in_memory_backend(memory_bucket: str) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": {"bucket": memory_bucket}}}
    ):
        output = run(storages_check.Command())

    assert "default  storages_base.memory.MemoryStorage" in output
    assert "FAIL" not in output


# -- storages_copy -----------------------------------------------------------------------


def test_copy_copies_every_file_with_its_folders_and_bytes(folders: dict[str, Path]) -> None:
    fill(storages["default"], FILES)

    output = run(storages_copy.Command(), "default", "archive")

    assert "4 file(s) in default -> archive" in output
    assert "copied 4, skipped 0 already there, failed 0" in output
    for name, data in FILES.items():
        assert (folders["archive"] / name).read_bytes() == data


def test_a_second_copy_skips_what_is_already_there_and_copies_what_changed(
    folders: dict[str, Path],
) -> None:
    fill(storages["default"], FILES)
    run(storages_copy.Command(), "default", "archive")
    # Same size, other bytes: only the checksum tells them apart (both sides are local).
    (folders["default"] / "a.txt").write_bytes(b"ALPHA")
    (folders["default"] / "new.txt").write_bytes(b"new")

    output = run(storages_copy.Command(), "default", "archive")

    assert "copied 2, skipped 3 already there, failed 0" in output
    assert (folders["archive"] / "a.txt").read_bytes() == b"ALPHA"
    assert (folders["archive"] / "new.txt").read_bytes() == b"new"


def test_copy_to_memory_streams_every_file_and_resumes_by_size(
    folders: dict[str, Path], memory_bucket: str
) -> None:
    fill(storages["default"], FILES)
    with override_settings(
        STORAGES={
            "default": {"BACKEND": FS, "OPTIONS": {"location": str(folders["default"])}},
            "memory": {"BACKEND": MEMORY, "OPTIONS": {"bucket": memory_bucket}},
        }
    ):
        first = run(storages_copy.Command(), "default", "memory", "--workers", "3")
        memory = storages["memory"]
        copied = {name: memory.open(name).read() for name in walk(memory)}
        second = run(storages_copy.Command(), "default", "memory")

    assert "copied 4" in first
    assert copied == FILES
    assert "copied 0, skipped 4 already there" in second


def test_copy_with_a_prefix_copies_only_that_folder(folders: dict[str, Path]) -> None:
    fill(storages["default"], FILES)

    output = run(storages_copy.Command(), "default", "archive", "--prefix", "docs")

    assert "2 file(s) in default under 'docs' -> archive" in output
    copied = sorted(str(p.relative_to(folders["archive"])) for p in folders["archive"].rglob("*.*"))
    assert copied == ["docs/b.txt", "docs/deep/c.bin"]


def test_a_dry_run_says_what_it_would_copy_and_copies_nothing(folders: dict[str, Path]) -> None:
    fill(storages["default"], FILES)

    output = run(storages_copy.Command(), "default", "archive", "--dry-run")

    assert "(dry run)" in output
    assert "would copy 4, skipped 0" in output
    assert list(folders["archive"].iterdir()) == []


def test_many_files_copy_concurrently_and_all_arrive(folders: dict[str, Path]) -> None:
    many = {f"bulk/{i:03}.txt": f"file {i}".encode() * (i + 1) for i in range(60)}
    fill(storages["default"], many)

    output = run(storages_copy.Command(), "default", "archive", "--workers", "8")

    assert "copied 60, skipped 0 already there, failed 0" in output
    assert {p.name for p in (folders["archive"] / "bulk").iterdir()} == {
        name.split("/")[1] for name in many
    }


def test_a_file_that_cannot_be_written_is_reported_and_the_others_still_copy(
    folders: dict[str, Path],
) -> None:
    fill(storages["default"], {"ok.txt": b"fine", "blocked/x.txt": b"nope"})
    (folders["archive"] / "blocked").write_text("a file where a folder is needed")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 file\\(s\\) failed") as failure:
        call_command(storages_copy.Command(), "default", "archive", stdout=out, stderr=err)

    assert failure.value.returncode == 1
    assert "failed: blocked/x.txt" in err.getvalue()
    assert "copied 1, skipped 0 already there, failed 1" in out.getvalue()
    assert (folders["archive"] / "ok.txt").read_bytes() == b"fine"


def test_copy_draws_a_progress_bar_on_a_terminal(folders: dict[str, Path]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fill(storages["default"], FILES)
    out = Terminal()

    call_command(storages_copy.Command(), "default", "archive", stdout=out, no_color=True)

    text = out.getvalue()
    assert "\r[" + "#" * 30 + "] 4/4" in text
    assert "copied 4" in text.splitlines()[-1]


def test_copy_lists_each_file_at_verbosity_2_when_not_on_a_terminal(
    folders: dict[str, Path],
) -> None:
    fill(storages["default"], FILES)

    output = run(storages_copy.Command(), "default", "archive", "--verbosity", "2")

    assert "\r" not in output
    assert {line for line in output.splitlines() if line.startswith("copied: ")} == {
        f"copied: {name}" for name in FILES
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("default", "nowhere"), "Unknown storage alias nowhere;"),
        (("default", "default"), "the same storage"),
        (("default", "archive", "--workers", "0"), "at least 1"),
    ],
)
def test_copy_refuses_impossible_requests(
    folders: dict[str, Path], args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run(storages_copy.Command(), *args)


def test_facts_of_a_missing_file_is_none_and_of_a_file_its_size(folders: dict[str, Path]) -> None:
    storage = FileSystemStorage(location=str(folders["default"]))
    storage.save("x.txt", ContentFile(b"12345"))

    assert facts(storage, "missing.txt") is None
    assert facts(storage, "x.txt") == (5, None)


# -- system checks -------------------------------------------------------------------------


def test_a_backend_that_cannot_be_imported_is_an_error() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": "storages_nope.NopeStorage"}}):
        messages = check_storages()

    assert [m.id for m in messages] == ["storages.E001"]
    assert "STORAGES['default'] (storages_nope.NopeStorage)" in messages[0].msg


def test_an_unknown_option_is_an_error_naming_the_closest_one(memory_bucket: str) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": {"bucket_name": memory_bucket}}}
    ):
        messages = check_storages()

    assert [m.id for m in messages] == ["storages.E002"]
    assert "Did you mean 'bucket'?" in messages[0].msg


def test_a_sound_configuration_has_no_messages(memory_bucket: str, tmp_path: Path) -> None:
    with override_settings(
        STORAGES={
            "default": {"BACKEND": MEMORY, "OPTIONS": {"bucket": memory_bucket}},
            "staticfiles": {"BACKEND": FS, "OPTIONS": {"location": str(tmp_path)}},
        }
    ):
        assert check_storages() == []


def test_the_checks_touch_no_network(monkeypatch: pytest.MonkeyPatch, memory_bucket: str) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a system check opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    with override_settings(
        STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": {"bucket": memory_bucket}}}
    ):
        assert check_storages() == []


def test_a_message_names_the_setting_the_user_actually_set(memory_bucket: str) -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": MEMORY}, "other": {"BACKEND": MEMORY, "OPTIONS": {}}},
        MEMORY_STORAGE_BUCKET=memory_bucket,
    ):
        default, other = configured_storages()
        other.options["bucket"] = "b"

        assert default.source("bucket") == "MEMORY_STORAGE_BUCKET"
        assert other.source("bucket") == "STORAGES['other']['OPTIONS']['bucket']"
    with override_settings(STORAGES={"default": {"BACKEND": MEMORY}}):
        unset = configured_storages()[0]

        assert unset.source("bucket") == (
            "MEMORY_STORAGE_BUCKET (or STORAGES['default']['OPTIONS']['bucket'])"
        )


def test_copy_streams_a_large_file_with_memory_bounded_by_a_chunk(
    folders: dict[str, Path],
) -> None:
    import tracemalloc

    size = 64 * 1024 * 1024
    with open(folders["default"] / "big.bin", "wb") as handle:
        for i in range(size // (1024 * 1024)):
            handle.write(bytes([i % 256]) * (1024 * 1024))
    tracemalloc.start()
    try:
        run(storages_copy.Command(), "default", "archive")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (folders["archive"] / "big.bin").stat().st_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 64 MiB file"


def test_copy_keeps_unicode_and_spaced_names(folders: dict[str, Path], memory_bucket: str) -> None:
    names = {"été/naïve file.txt": b"accents", "日本/写真 1.png": b"\x89PNG", "a b/c d.txt": b"x"}
    fill(storages["default"], names)
    with override_settings(
        STORAGES={
            "default": {"BACKEND": FS, "OPTIONS": {"location": str(folders["default"])}},
            "memory": {"BACKEND": MEMORY, "OPTIONS": {"bucket": memory_bucket}},
        }
    ):
        output = run(storages_copy.Command(), "default", "memory")
        memory = storages["memory"]
        copied = {name: memory.open(name).read() for name in walk(memory)}

    assert "copied 3, skipped 0 already there, failed 0" in output
    assert copied == names
