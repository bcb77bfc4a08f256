"""Hostile names (issue 16, check 3) against the GCS emulator: the bucket's objects stay
under location. Fewer generated names than elsewhere: the emulator is slow."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm
from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


def test_hostile_names_stay_inside_location(
    gcs: GCSEmulator, bucket: str, make_storage: Callable[..., GoogleCloudStorage]
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

    tally = check_hostile_names(storage, keys, "media/sub/", max_examples=30)
    confirm("GCS", "3. Hostile names", tally.figures() + " (fewer generated: a slow emulator)")
