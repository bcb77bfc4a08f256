"""Hostile names (issue 16, check 3) on libcloud's LOCAL driver: its folder is walked."""

from __future__ import annotations

from pathlib import Path

import pytest

from storages_base.testing.hostile import check_hostile_names, disk_listing
from storages_base.testing.reliability import confirm
from storages_libcloud import LibCloudStorage

from .conftest import Driver

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(examples: int, tmp_path: Path) -> None:
    # A driver root of its own, holding only this container: all of it is walked.
    driver = Driver(
        "local", {"type": "libcloud.storage.types.Provider.LOCAL", "user": str(tmp_path)}
    )
    bucket = driver.new_container()
    storage = LibCloudStorage(providers={"default": driver.entry(bucket)}, location="media/sub")
    tally = check_hostile_names(
        storage, disk_listing(tmp_path), f"{bucket}/media/sub/", max_examples=examples
    )
    confirm("Libcloud", ROWS[examples], tally.figures())
