"""Hostile names (issue 16, check 3) against sshd: the server's disk is walked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import FolderNotEmptyError
from storages_base.testing.hostile import check_hostile_names, disk_listing
from storages_base.testing.reliability import confirm
from storages_sftp import SFTPStorage

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, storage_factory: Callable[..., SFTPStorage], root: Path
) -> None:
    # The storage root is three folders below the walked one, so a name climbing out of
    # it lands where the walk sees it; ``location`` adds two more.
    top = root / "a" / "b"
    top.mkdir(parents=True)
    storage = storage_factory(root_path=f"{top}/", location="media/sub")
    tally = check_hostile_names(
        storage, disk_listing(root), "a/b/media/sub/", max_examples=examples
    )
    confirm("SFTP", ROWS[examples], tally.figures())


def test_deleting_a_folder_that_holds_files_is_refused(
    storage_factory: Callable[..., SFTPStorage], root: Path
) -> None:
    storage = storage_factory()
    storage.save("d/e/x.txt", ContentFile(b"x"))
    for name in ("d", "d/", "d\\", "d/e/"):
        with pytest.raises(FolderNotEmptyError, match="still holds files"):
            storage.delete(name)
    assert (root / "d" / "e" / "x.txt").read_bytes() == b"x"
