"""The README's settings table is generated from the options table, and the helper works."""

from __future__ import annotations

from pathlib import Path

import pytest

from storages_base import Option, Options
from storages_base.memory import MemoryStorage
from storages_base.testing.readme import check_settings_table, render_block, settings_block

README = Path(__file__).parents[1] / "README.md"
TABLE = Options(Option("color", "COLOR", "blue", "The color."))


def test_the_readme_settings_table_of_memory_storage_matches_its_options() -> None:
    check_settings_table(README, MemoryStorage.options, "MemoryStorage")


def test_a_stale_table_fails_with_a_diff(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    stale = render_block("Paint", TABLE).replace("blue", "red")
    readme.write_text(f"# Paint\n\n{stale}\n")
    with pytest.raises(AssertionError, match=r"out of date(.|\n)*-\| `color` .*red"):
        check_settings_table(readme, TABLE, "Paint")


def test_a_missing_block_fails_with_the_block_to_add(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Paint\n")
    with pytest.raises(AssertionError, match="<!-- settings:Paint -->"):
        check_settings_table(readme, TABLE, "Paint")


def test_the_update_variable_rewrites_only_that_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = tmp_path / "README.md"
    other = render_block("Other", TABLE).replace("blue", "green")
    readme.write_text(f"intro\n<!-- settings:Paint -->\nold\n<!-- /settings -->\n{other}\nend\n")
    monkeypatch.setenv("STORAGES_UPDATE_README", "1")
    check_settings_table(readme, TABLE, "Paint")
    text = readme.read_text()
    assert settings_block(text, "Paint") == TABLE.markdown()
    assert "green" in (settings_block(text, "Other") or "")
    assert text.startswith("intro\n")
    assert text.endswith("\nend\n")
    monkeypatch.delenv("STORAGES_UPDATE_README")
    check_settings_table(readme, TABLE, "Paint")
