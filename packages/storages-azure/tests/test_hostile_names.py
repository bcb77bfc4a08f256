"""Hostile names (issue 16, check 3) against Azurite: the container's blobs stay under location."""

from __future__ import annotations

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm

from .conftest import Azurite


def test_hostile_names_stay_inside_location(azurite: Azurite, container: str) -> None:
    storage = azurite.storage(container, location="media/sub")
    client = azurite.service().get_container_client(container)

    def keys() -> list[str]:
        return [blob.name for blob in client.list_blobs()]

    tally = check_hostile_names(storage, keys, "media/sub/", max_examples=60)
    confirm("Azure", "3. Hostile names", tally.figures())
