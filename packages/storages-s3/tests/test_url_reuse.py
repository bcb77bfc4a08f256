"""Signed URLs reused within a window (AWS_QUERYSTRING_REUSE_WINDOW), so caches can keep files.

The same URL for every ``url(name)`` in one window (in every process: the signing
instant is the window's start), a new one in the next, each valid at least ``expire -
window``; s3rver enforces the expiry, botocore signs the same bytes for the rounded
instant, and the in-process cache stays bounded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from storages_base import signed_urls
from storages_base.testing.threads import at_once
from storages_s3 import S3Storage, sigv4, urls

from .conftest import FROZEN, S3Server
from .test_urls import botocore_client, botocore_url, fetch

WINDOW_START = FROZEN - FROZEN % 900


def build(**options: Any) -> S3Storage:
    """A storage whose URLs need no server and no session (keys in the options)."""
    values = {
        "bucket_name": "media",
        "region_name": "eu-west-1",
        "access_key": "AKIDEXAMPLE0TEST",
        "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        **options,
    }
    return S3Storage(**values)


def signed_at(url: str) -> tuple[float, int]:
    """The signing instant and the lifetime a SigV4 URL carries."""
    query = parse_qs(urlsplit(url).query)
    stamp = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    return stamp.replace(tzinfo=timezone.utc).timestamp(), int(query["X-Amz-Expires"][0])


def test_one_url_per_window_and_a_new_one_in_the_next(frozen: Any) -> None:
    storage = build()
    assert storage.url_reuse_window == 900  # the default: a quarter of 3600 s
    first = storage.url("a.jpg")
    frozen(FROZEN + 10)
    assert storage.url("a.jpg") == first
    assert build().url("a.jpg") == first  # another process or storage: the same URL
    frozen(WINDOW_START + 900)
    assert storage.url("a.jpg") != first
    assert signed_at(storage.url("a.jpg")) == (WINDOW_START + 900, 3600)


def test_a_url_asked_at_the_end_of_a_window_lives_expire_minus_window(frozen: Any) -> None:
    frozen(WINDOW_START + 899)
    instant, lifetime = signed_at(build().url("a.jpg"))
    assert instant == WINDOW_START
    assert instant + lifetime - (WINDOW_START + 899) == 3600 - 899


def test_byte_identical_to_botocore_at_the_rounded_instant(frozen: Any) -> None:
    storage = build(url_reuse_window=60)
    client = botocore_client(storage)
    frozen(FROZEN - FROZEN % 60)
    expected = botocore_url(client, "media", "x y/ãlöhâ.jpg", {"ResponseContentType": "image/png"})
    frozen(FROZEN - FROZEN % 60 + 59)
    assert storage.url("x y/ãlöhâ.jpg", parameters={"ResponseContentType": "image/png"}) == expected


def test_parameters_and_method_are_part_of_what_is_reused(frozen: Any) -> None:
    storage = build()
    plain = storage.url("a.jpg")
    download = storage.url("a.jpg", parameters={"ResponseContentDisposition": "attachment"})
    put = storage.url("a.jpg", http_method="PUT")
    assert len({plain, download, put}) == 3
    assert storage.url("a.jpg", parameters={"ResponseContentDisposition": "attachment"}) == download
    assert storage.url("a.jpg", http_method="PUT") == put


def test_zero_turns_reuse_off(frozen: Any) -> None:
    storage = build(url_reuse_window=0)
    first = storage.url("a.jpg")
    frozen(FROZEN + 1)
    assert storage.url("a.jpg") != first
    assert signed_at(storage.url("a.jpg"))[0] == FROZEN + 1


def test_a_call_shorter_than_the_window_gets_a_quarter_of_its_expiry(frozen: Any) -> None:
    frozen(WINDOW_START + 800)
    instant, lifetime = signed_at(build().url("a.jpg", expire=60))
    assert lifetime == 60
    assert instant == (WINDOW_START + 800) - (WINDOW_START + 800) % 15
    assert instant + 60 > WINDOW_START + 800 + 40  # still valid for 3/4 of it at least


@pytest.mark.parametrize(
    ("window", "expire", "message"),
    [
        (3600, 3600, "AWS_QUERYSTRING_REUSE_WINDOW (3600 s) must be shorter than"),
        (900, 600, "AWS_QUERYSTRING_EXPIRE (600 s)"),
        (-1, 3600, "whole number of seconds"),
        ("60", 3600, "whole number of seconds"),
    ],
)
def test_a_window_that_would_hand_out_expired_urls_is_refused(
    window: Any, expire: int, message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(url_reuse_window=window, querystring_expire=expire)


def test_the_setting_and_a_short_expiry_choose_the_window() -> None:
    with override_settings(AWS_QUERYSTRING_REUSE_WINDOW=120):
        assert build().url_reuse_window == 120
    assert build(querystring_expire=600).url_reuse_window == 150  # default follows expiry
    with override_settings(AWS_QUERYSTRING_EXPIRE=60):
        assert build().url_reuse_window == 15


def test_cloudfront_urls_expire_from_the_window_start(frozen: Any, pem: bytes) -> None:
    storage = build(
        custom_domain="d111.cloudfront.net", cloudfront_key_id="KID", cloudfront_key=pem
    )
    first = storage.url("a.jpg")
    frozen(FROZEN + 30)
    assert storage.url("a.jpg") == first
    assert f"Expires={WINDOW_START + 3600}&" in first


def test_botocore_signed_configurations_are_reused_in_the_process(frozen: Any) -> None:
    """SigV2 is signed by botocore at its own clock: reused from the cache, same window."""
    storage = build(signature_version="s3", region_name="us-east-1")
    first = storage.url("a.jpg")
    frozen(FROZEN + 5)
    assert storage.url("a.jpg") == first
    frozen(WINDOW_START + 900)
    assert storage.url("a.jpg") != first


def test_a_repeated_url_is_a_lookup_not_a_signature(
    frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    signatures = []
    presign = sigv4.QueryPresigner.presign

    def counting(self: Any, *args: Any) -> str:
        signatures.append(args)
        return presign(self, *args)

    monkeypatch.setattr(sigv4.QueryPresigner, "presign", counting)
    storage = build()
    page = [f"img/{i}.jpg" for i in range(100)]
    for _render in range(20):
        urls_seen = {storage.url(name) for name in page}
    assert len(urls_seen) == 100
    assert len(signatures) == 100


def test_threads_asking_at_once_agree(frozen: Any) -> None:
    storage = build()
    results = at_once(lambda: [storage.url(f"{i}.jpg") for i in range(200)])
    assert all(result == results[0] for result in results)


def test_the_cache_stays_bounded(frozen: Any) -> None:
    storage = build()
    for i in range(signed_urls.MAX_ENTRIES + 6000):
        storage.url(f"page/{i}.jpg")
    assert len(storage.url_builder._signed) == signed_urls.MAX_ENTRIES


def test_s3rver_accepts_a_url_at_the_end_of_its_shortest_life_and_refuses_an_expired_one(
    s3rver: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3rver.new_bucket()
    s3rver.client().put_object(Bucket=bucket, Key="ãlöhâ.jpg", Body=b"fresh")
    storage = s3rver.storage(bucket, querystring_expire=120, url_reuse_window=60)
    now = datetime.now(timezone.utc).timestamp()
    # Asked 58 s ago: signed at most 118 s ago, so it has at least 2 of its 120 s left.
    monkeypatch.setattr(urls, "_now", lambda: now - 58)
    assert fetch(storage.url("ãlöhâ.jpg"))[:2] == (200, b"fresh")
    # Asked 200 s ago: its window started at least 200 s ago; 120 s have passed.
    monkeypatch.setattr(urls, "_now", lambda: now - 200)
    status, body, _ = fetch(storage.url("ãlöhâ.jpg"))
    assert status == 403
    assert b"expired" in body
