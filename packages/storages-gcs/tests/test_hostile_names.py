"""Hostile names (issue 16, check 3) against the GCS emulator: the bucket's objects stay
under location. Fewer generated names than elsewhere: the emulator is slow."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator

ROWS = {30: "3. Hostile names", 150: "3. Hostile names: 150 generated (slow)"}


@pytest.mark.parametrize("examples", [30, pytest.param(150, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, gcs: GCSEmulator, bucket: str, make_storage: Callable[..., GoogleCloudStorage]
) -> None:
    storage = make_storage(location="media/sub")

    def keys() -> list[str]:
        names: list[str] = []
        token = ""
        while True:
            query = urllib.parse.urlencode({"pageToken": token} if token else {})
            url = f"{gcs.url}/storage/v1/b/{bucket}/o?{query}"
            with urllib.request.urlopen(url, timeout=10) as response:
                page = json.load(response)
            names += [item["name"] for item in page.get("items", [])]
            token = page.get("nextPageToken", "")
            if not token:
                return names

    tally = check_hostile_names(storage, keys, "media/sub/", max_examples=examples)
    confirm("GCS", ROWS[examples], tally.figures() + " (fewer generated: a slow emulator)")
