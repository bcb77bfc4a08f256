"""The RELIABILITY.md ledger refuses a figure the test did not run, and finds unconfirmed rows."""

from pathlib import Path

import pytest

from storages_base.testing import reliability

DOC = """# x

## S3

| check | what ran | result |
|---|---|---|
| 1. Faults: proxy | 12 faults injected | pass |
| 4. Secrets | 3 secrets, 9 places | fail |
"""


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "RELIABILITY.md").write_text(DOC)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.setenv(reliability.LOG_VARIABLE, str(tmp_path / "log"))
    return tmp_path


def test_a_row_stating_the_figures_is_confirmed_and_logged(checkout: Path) -> None:
    reliability.confirm("S3", "1. Faults: proxy", "12 faults injected")
    assert (checkout / "log").read_text() == "S3\t1. Faults: proxy\n"


def test_other_figures_a_missing_row_or_a_failed_result_fail(checkout: Path) -> None:
    with pytest.raises(AssertionError, match="the test ran"):
        reliability.confirm("S3", "1. Faults: proxy", "13 faults injected")
    with pytest.raises(AssertionError, match="has no row"):
        reliability.confirm("S3", "2. Concurrency", "8 threads")
    with pytest.raises(AssertionError):
        reliability.confirm("S3", "4. Secrets", "3 secrets, 9 places")
    with pytest.raises(ValueError, match="must start with"):
        reliability.confirm("S3", "Faults", "x")
    assert not (checkout / "log").exists()


def test_unconfirmed_rows_and_missing_checks_are_reported(checkout: Path) -> None:
    reliability.confirm("S3", "1. Faults: proxy", "12 faults injected")
    problems = reliability.unconfirmed(checkout / "RELIABILITY.md", checkout / "log")
    assert "S3: row '4. Secrets' was confirmed by no test" in problems
    assert "S3: no row for '2. Concurrency'" in problems
    assert not any("Faults: proxy" in p for p in problems)
    assert "GCS: no row for '1. Faults'" in problems
