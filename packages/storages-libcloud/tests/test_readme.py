"""The README's settings table is the options table (``STORAGES_UPDATE_README=1`` rewrites it)."""

from __future__ import annotations

from pathlib import Path

from storages_base.testing.readme import check_settings_table
from storages_libcloud.options import LIBCLOUD_OPTIONS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_settings_table_is_generated_from_the_options() -> None:
    check_settings_table(README, LIBCLOUD_OPTIONS, "LibCloudStorage")


def test_every_setting_of_django_storages_libcloud_docs_is_an_option() -> None:
    declared = {setting for item in LIBCLOUD_OPTIONS for setting in item.settings}
    assert {"LIBCLOUD_PROVIDERS", "DEFAULT_LIBCLOUD_PROVIDER"} <= declared
