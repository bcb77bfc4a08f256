"""Hostile names (issue 16, check 3) against the local Dropbox server: its tree stays
under location."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm
from storages_dropbox import DropboxStorage
from storages_dropbox.testing import DropboxServer

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, server: DropboxServer, make_storage: Callable[..., DropboxStorage]
) -> None:
    storage = make_storage(location="media/sub")

    def entries() -> set[str]:
        with server.lock:
            return {
                entry.display.lstrip("/") + ("/" if entry.folder else "")
                for key, entry in server.tree.items()
                if key
            }

    before = entries()  # the session's server holds other tests' files

    def listing() -> list[str]:
        return sorted(entries() - before)

    tally = check_hostile_names(storage, listing, "media/sub/", max_examples=examples)
    confirm("Dropbox", ROWS[examples], tally.figures())
