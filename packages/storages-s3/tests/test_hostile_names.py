"""Hostile names (issue 16, check 3) against moto: the bucket's keys stay under location."""

from __future__ import annotations

import pytest

from storages_base.testing.hostile import check_hostile_names
from storages_base.testing.reliability import confirm

from .conftest import S3Server

ROWS = {60: "3. Hostile names", 400: "3. Hostile names: 400 generated (slow)"}


@pytest.mark.parametrize("examples", [60, pytest.param(400, marks=pytest.mark.slow)])
def test_hostile_names_stay_inside_location(
    examples: int, moto: S3Server, moto_bucket: str
) -> None:
    storage = moto.storage(moto_bucket, location="media/sub")
    client = moto.client()

    def keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=moto_bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    tally = check_hostile_names(storage, keys, "media/sub/", max_examples=examples)
    confirm("S3", ROWS[examples], tally.figures())
