"""Check 2 of RELIABILITY.md: one storage shared by 8 threads, on moto and on s3rver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_s3 import S3Storage

from .conftest import S3Server


class S3Concurrency(ConcurrencyCases):
    provider = "S3"
    server: S3Server
    bucket: str

    def server_listing(self, storage_factory: Any, folder: str) -> list[str]:
        """The keys under ``folder``, listed by a plain boto3 client (not the backend)."""
        prefix = f"{folder}/"
        pages = self.server.client().get_paginator("list_objects_v2")
        keys = [
            item["Key"]
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        return sorted(key[len(prefix) :] for key in keys)


class TestConcurrencyOnMoto(S3Concurrency):
    """moto honours If-None-Match: same-name saves are atomic create-only writes."""

    detail = "moto"

    @pytest.fixture
    def storage_factory(self, moto: S3Server, moto_bucket: str) -> Callable[..., S3Storage]:
        self.server, self.bucket = moto, moto_bucket
        return lambda **options: moto.storage(moto_bucket, **options)


class TestConcurrencyOnS3rver(S3Concurrency):
    """s3rver ignores If-None-Match: a save confirms the name is free before writing."""

    detail = "s3rver"
    server_mixes_overwrites = (
        "s3rver writes an object in place: concurrent PUTs of one key interleave in its "
        "file and a GET meanwhile gets it cut short (S3 and moto replace an object whole; "
        "overwrites run on moto)"
    )

    @pytest.fixture
    def storage_factory(self, s3rver: S3Server) -> Callable[..., S3Storage]:
        bucket = s3rver.new_bucket()
        self.server, self.bucket = s3rver, bucket
        return lambda **options: s3rver.storage(bucket, **options)
