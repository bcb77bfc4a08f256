"""Signed URLs reused within a window (GS_QUERYSTRING_REUSE_WINDOW), so caches can keep files.

The same URL for every ``url(name)`` in one window, a new one in the next, each valid at
least ``expiration - window``: the emulator verifies the signature and the expiry fields
against its own clock; the SDK signs the same bytes for the rounded instant; with IAM
signBlob the remote call is made once per name per window; the cache stays bounded.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile

from storages_base import signed_urls
from storages_base.testing.threads import at_once
from storages_gcs import GoogleCloudStorage

from . import test_urls
from .test_urls import FROZEN, IamServer, TokenCredentials, fetch, sdk_url

frozen, iam = test_urls.frozen, test_urls.iam  # their fixtures, shared

Factory = Callable[..., GoogleCloudStorage]


def signed_at(url: str) -> tuple[float, int]:
    """The signing instant and the lifetime a V4 URL carries."""
    query = parse_qs(urlsplit(url).query)
    stamp = datetime.strptime(query["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ")
    return stamp.replace(tzinfo=timezone.utc).timestamp(), int(query["X-Goog-Expires"][0])


def test_the_default_window_is_a_quarter_of_the_expiration_at_most_900(
    make_storage: Factory,
) -> None:
    assert make_storage().url_reuse_window == 900  # GS_EXPIRATION: one day
    assert make_storage(expiration=timedelta(seconds=600)).url_reuse_window == 150


def test_one_url_per_window_and_a_new_one_in_the_next(
    make_storage: Factory, frozen: Callable[[float], None]
) -> None:
    storage = make_storage()
    frozen(FROZEN + 17)
    first = storage.url("a.jpg")
    frozen(FROZEN + 899)
    assert storage.url("a.jpg") == first
    assert make_storage().url("a.jpg") == first  # another process or storage: the same URL
    assert signed_at(first) == (FROZEN, 86400)
    frozen(FROZEN + 900)
    second = storage.url("a.jpg")
    assert second != first
    assert signed_at(second) == (FROZEN + 900, 86400)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"response_disposition": 'attachment; filename="r é.pdf"', "response_type": "x/y"},
        {"method": "PUT", "content_type": "image/png"},
    ],
)
def test_byte_identical_to_the_sdk_at_the_rounded_instant(
    make_storage: Factory,
    sa_credentials: Any,
    frozen: Callable[[float], None],
    parameters: dict[str, Any],
) -> None:
    storage = make_storage(url_reuse_window=60)
    key = "x y/ãlöhâ+(1).jpg"
    frozen(FROZEN + 60)
    expected = sdk_url(storage, key, sa_credentials, **parameters)
    frozen(FROZEN + 119)
    assert storage.url(key, parameters=dict(parameters)) == expected


def test_a_url_asked_at_the_end_of_a_window_lives_expiration_minus_window(
    make_storage: Factory, frozen: Callable[[float], None]
) -> None:
    frozen(FROZEN + 899)
    instant, lifetime = signed_at(make_storage().url("a.jpg"))
    assert instant == FROZEN
    assert instant + lifetime - (FROZEN + 899) == 86400 - 899


def test_the_emulator_accepts_a_url_at_the_end_of_its_shortest_life_and_refuses_it_after(
    make_storage: Factory, frozen: Callable[[float], None]
) -> None:
    storage = make_storage(expiration=timedelta(seconds=120), url_reuse_window=60)
    name = storage.save("ãlöhâ.jpg", ContentFile(b"fresh"))
    now = datetime.now(timezone.utc).timestamp()
    # Asked 58 s ago: signed at most 118 s ago, so it has at least 2 of its 120 s left.
    frozen(now - 58)
    url = storage.url(name)
    instant, lifetime = signed_at(url)
    assert (lifetime, instant % 60) == (120, 0)
    assert now - 118 <= instant <= now - 58
    assert fetch(url) == b"fresh"
    # Asked 200 s ago: its window started at least 200 s ago; 120 s have passed.
    frozen(now - 200)
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(storage.url(name))
    assert caught.value.code == 403


def test_a_repeated_url_is_a_lookup_not_a_signature(
    make_storage: Factory, frozen: Callable[[float], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = make_storage()
    signer = storage.url_builder.signer()
    signs: list[bytes] = []
    original = signer._sign
    monkeypatch.setattr(signer, "_sign", lambda m: signs.append(m) or original(m))
    page = [f"img/{i}.jpg" for i in range(100)]
    seen: set[str] = set()
    for view in range(20):
        frozen(FROZEN + view * 40)  # 20 views over 800 s: one window
        seen.update(storage.url(name) for name in page)
    assert len(seen) == 100
    assert len(signs) == 100


def test_iam_sign_blob_is_called_once_per_name_per_window(
    make_storage: Factory, iam: IamServer, frozen: Callable[[float], None]
) -> None:
    storage = make_storage(credentials=TokenCredentials(), iam_sign_blob=True, iam_endpoint=iam.url)
    page = [f"img/{i}.png" for i in range(10)]
    first = [storage.url(name) for name in page]
    for view in range(1, 5):  # four more views in the same window
        frozen(FROZEN + view * 200)
        assert [storage.url(name) for name in page] == first
    assert len(iam.calls) == 10
    frozen(FROZEN + 900)  # the next window: one call per name again
    later = [storage.url(name) for name in page]
    assert len(iam.calls) == 20
    assert not set(later) & set(first)


def test_iam_sign_blob_from_8_threads_at_once_is_one_call_per_name(
    make_storage: Factory, iam: IamServer, frozen: Callable[[float], None]
) -> None:
    storage = make_storage(credentials=TokenCredentials(), iam_sign_blob=True, iam_endpoint=iam.url)
    storage.url("warm.png")  # the signer and its token
    results = at_once(lambda: [storage.url(f"img/{i}.png") for i in range(20)])
    assert all(result == results[0] for result in results)
    assert len(iam.calls) == 1 + 20


def test_threads_asking_at_once_agree(make_storage: Factory, frozen: Any) -> None:
    storage = make_storage()
    results = at_once(lambda: [storage.url(f"{i}.jpg") for i in range(100)])
    assert all(result == results[0] for result in results)
    assert results[0] == [make_storage().url(f"{i}.jpg") for i in range(100)]


def test_the_cache_stays_bounded(make_storage: Factory, frozen: Any) -> None:
    storage = make_storage()
    for i in range(signed_urls.MAX_ENTRIES + 500):
        storage.url(f"page/{i}.jpg")
    assert len(storage.url_builder._cache) == signed_urls.MAX_ENTRIES
