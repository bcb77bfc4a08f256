"""Hostile names (issue 16, check 3) against Azurite: the container's blobs stay under location."""

from __future__ import annotations

import pytest

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm

from .conftest import Azurite

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, azurite: Azurite, container: str
) -> None:
    storage = azurite.storage(container, location="media/sub")
    client = azurite.service().get_container_client(container)

    def keys() -> list[str]:
        return [blob.name for blob in client.list_blobs()]

    tally = check_hostile_names(storage, keys, "media/sub/", max_examples=examples)
    confirm("Azure", ROWS[examples], tally.figures())
