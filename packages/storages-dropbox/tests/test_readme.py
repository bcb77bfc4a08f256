"""The README's settings table is the options table; the seed's documented settings all work."""

from __future__ import annotations

from pathlib import Path

from storages_base.testing.readme import check_settings_table
from storages_dropbox.options import DROPBOX_OPTIONS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_settings_table_is_generated_from_the_options() -> None:
    check_settings_table(README, DROPBOX_OPTIONS, "DropboxStorage")


def test_every_setting_of_django_storages_dropbox_docs_is_an_option() -> None:
    documented = {
        "DROPBOX_OAUTH2_TOKEN", "DROPBOX_ROOT_PATH", "DROPBOX_TIMEOUT", "DROPBOX_WRITE_MODE",
        "DROPBOX_APP_KEY", "DROPBOX_APP_SECRET", "DROPBOX_OAUTH2_REFRESH_TOKEN",
    }  # fmt: skip
    declared = {setting for item in DROPBOX_OPTIONS for setting in item.settings}
    assert documented <= declared
