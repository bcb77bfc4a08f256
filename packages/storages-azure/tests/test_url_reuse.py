"""SAS URLs reused within a window (AZURE_URL_REUSE_WINDOW), so caches can keep files.

The same URL for every ``url(name)`` in one window, a new one in the next, each valid at
least ``expiration_secs - window``: Azurite enforces the expiry of account-key and
user-delegation SAS alike; the SDK's ``generate_blob_sas`` signs the same bytes for the
rounded instant; the in-process cache stays bounded.
"""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.storage.blob import _shared_access_signature as _sdk_sas
from azure.storage.blob import generate_blob_sas
from django.core.files.base import ContentFile

from storages_azure import AzureStorage, urls
from storages_azure.client import EMULATOR_KEY
from storages_base import signed_urls
from storages_base.testing.threads import at_once

from . import test_token_credential
from .conftest import ACCOUNT
from .test_token_credential import fetch as fetch_tls
from .test_token_credential import token_storage
from .test_urls import FROZEN, fetch, refused

oauth_azurite = test_token_credential.oauth_azurite  # its fixture (its own Azurite, OAuth)

Factory = Callable[..., AzureStorage]
START = FROZEN - FROZEN % 900  # the start of a default window


def expires_at(url: str) -> float:
    """The expiry (``se``) a SAS URL carries, as epoch seconds."""
    stamp = parse_qs(urlsplit(url).query)["se"][0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    def set_clock(epoch: float) -> None:
        monkeypatch.setattr(urls, "_now", lambda: float(epoch))

    set_clock(START)
    return set_clock


def test_one_url_per_window_and_a_new_one_in_the_next(
    make_storage: Factory, clock: Callable[[float], None]
) -> None:
    storage = make_storage(expiration_secs=3600)
    assert storage.url_reuse_window == 900  # the default: a quarter of the expiry
    clock(START + 17)
    first = storage.url("a.jpg")
    clock(START + 899)
    assert storage.url("a.jpg") == first
    assert make_storage(expiration_secs=3600).url("a.jpg") == first  # another process
    assert expires_at(first) == START + 3600
    clock(START + 900)
    assert storage.url("a.jpg") != first
    assert expires_at(storage.url("a.jpg")) == START + 900 + 3600


@pytest.mark.parametrize(
    ("parameters", "mode"),
    [
        (None, "r"),
        ({"content_disposition": 'attachment; filename="r 1.pdf"', "content_type": "x/y"}, "r"),
        (None, "cw"),
    ],
)
def test_byte_identical_to_generate_blob_sas_at_the_rounded_instant(
    make_storage: Factory,
    container: str,
    clock: Callable[[float], None],
    monkeypatch: pytest.MonkeyPatch,
    parameters: Any,
    mode: str,
) -> None:
    monkeypatch.setattr(_sdk_sas, "X_MS_VERSION", urls.SAS_VERSION)  # as in test_urls
    storage = make_storage(expiration_secs=3600, url_reuse_window=600)
    clock(START + 600 + 599)
    url = storage.url("x y/ãlöhâ.jpg", parameters=parameters, mode=mode)
    expected = generate_blob_sas(
        ACCOUNT,
        container,
        "x y/ãlöhâ.jpg",
        account_key=EMULATOR_KEY,
        permission=urls.permissions(mode),
        expiry=datetime.fromtimestamp(START + 600 + 3600, timezone.utc),
        **(parameters or {}),
    )
    assert url.split("?", 1)[1] == expected


def test_parameters_and_mode_are_part_of_what_is_reused(
    make_storage: Factory, clock: Callable[[float], None]
) -> None:
    storage = make_storage(expiration_secs=3600)
    plain = storage.url("a.jpg")
    download = storage.url("a.jpg", parameters={"content_disposition": "attachment"})
    write = storage.url("a.jpg", mode="w")
    assert len({plain, download, write}) == 3
    clock(START + 300)
    assert storage.url("a.jpg", parameters={"content_disposition": "attachment"}) == download
    assert storage.url("a.jpg", mode="w") == write


def test_azurite_accepts_a_sas_at_the_end_of_its_shortest_life_and_refuses_it_after(
    make_storage: Factory, clock: Callable[[float], None]
) -> None:
    storage = make_storage(expiration_secs=120, url_reuse_window=60)
    name = storage.save("ãlöhâ.jpg", ContentFile(b"fresh"))
    now = time.time()
    # Asked 58 s ago: signed at most 118 s ago, so it has at least 2 of its 120 s left.
    clock(now - 58)
    url = storage.url(name)
    assert now + 2 <= expires_at(url) <= now + 62
    assert fetch(url)[:2] == (200, b"fresh")
    # Asked 200 s ago: its window started at least 200 s ago; 120 s have passed.
    clock(now - 200)
    assert refused(storage.url(name)) == 403


def test_user_delegation_sas_are_reused_and_expire_as_account_key_ones(
    oauth_azurite: dict[str, Any],
    clock: Callable[[float], None],
) -> None:
    storage = token_storage(oauth_azurite, "tokens", expiration_secs=120, url_reuse_window=60)
    name = storage.save("reuse/delegated.txt", ContentFile(b"delegated"))
    now = time.time()
    clock(now - 58)
    first = storage.url(name)
    assert "skoid=" in first
    clock(now - 58 - (now - 58) % 60 + 59)  # the last second of that window
    assert storage.url(name) == first
    assert fetch_tls(first, oauth_azurite["ca"]) == b"delegated"
    clock(now - 200)
    expired = storage.url(name)
    assert expired != first
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch_tls(expired, oauth_azurite["ca"])
    assert info.value.code == 403


def test_a_repeated_url_is_a_lookup_not_a_signature(
    make_storage: Factory, clock: Callable[[float], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    signatures: list[str] = []
    token = urls.SasSigner.token

    def counting(self: Any, *args: Any) -> str:
        signatures.append(args[1])
        return token(self, *args)

    monkeypatch.setattr(urls.SasSigner, "token", counting)
    storage = make_storage(expiration_secs=3600)
    page = [f"img/{i}.jpg" for i in range(100)]
    seen: set[str] = set()
    for view in range(20):
        clock(START + view * 40)  # 20 views over 800 s: one window
        seen.update(storage.url(name) for name in page)
    assert len(seen) == 100
    assert len(signatures) == 100


def test_threads_asking_at_once_agree(make_storage: Factory, clock: Any) -> None:
    storage = make_storage(expiration_secs=3600)
    results = at_once(lambda: [storage.url(f"{i}.jpg") for i in range(200)])
    assert all(result == results[0] for result in results)


def test_the_cache_stays_bounded(make_storage: Factory, clock: Any) -> None:
    storage = make_storage(expiration_secs=3600)
    for i in range(signed_urls.MAX_ENTRIES + 2000):
        storage.url(f"page/{i}.jpg")
    assert len(storage.url_builder._cache) == signed_urls.MAX_ENTRIES
