"""Temporary links reused within a window (DROPBOX_URL_REUSE_WINDOW), so caches keep files.

Dropbox fixes a link's life at four hours and each link is an API call: within a window
``url(name)`` hands out the link it already has (one call per name per window, however
many threads ask), in the next window a new one, and every link handed out still has at
least ``4 h - window`` to live, which the local server enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from storages_base.testing.threads import at_once
from storages_dropbox import DropboxStorage, urls
from storages_dropbox.testing import DropboxServer

Factory = Callable[..., DropboxStorage]
START = 1_795_000_500  # a whole multiple of 900 s: the start of a default window
PAGE = [f"page/{i}.jpg" for i in range(20)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    def set_clock(epoch: float) -> None:
        monkeypatch.setattr(urls, "_now", lambda: float(epoch))

    set_clock(START)
    return set_clock


@pytest.fixture
def page(server: DropboxServer, make_storage: Factory) -> DropboxStorage:
    """A storage with PAGE's files in it, the server's counters reset."""
    storage = make_storage()
    for name in PAGE:
        storage.save(name, ContentFile(name.encode()))
    server.reset_counts()
    return storage


def get(server: DropboxServer, url: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, verify=server.ca_path)


def test_the_default_window_is_15_minutes_and_at_least_the_links_life_is_refused(
    make_storage: Factory,
) -> None:
    assert make_storage().url_reuse_window == 900
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_URL_REUSE_WINDOW"):
        make_storage(url_reuse_window=4 * 3600)


def test_one_link_per_window_and_a_new_one_in_the_next(
    server: DropboxServer, page: DropboxStorage, clock: Callable[[float], None]
) -> None:
    clock(START + 17)
    first = page.url(PAGE[0])
    clock(START + 899)
    assert page.url(PAGE[0]) == first
    assert server.calls["files/get_temporary_link"] == 1
    clock(START + 900)
    second = page.url(PAGE[0])
    assert second != first
    assert server.calls["files/get_temporary_link"] == 2
    assert get(server, second).content == PAGE[0].encode()


def test_a_page_viewed_20_times_in_a_window_is_one_call_and_one_link_per_image(
    server: DropboxServer, page: DropboxStorage, clock: Callable[[float], None]
) -> None:
    seen: set[str] = set()
    for view in range(20):
        clock(START + view * 40)  # 20 views over 800 s: one window
        seen.update(page.url(name) for name in PAGE)
    assert len(seen) == len(PAGE)
    assert server.calls["files/get_temporary_link"] == len(PAGE)


def test_a_link_handed_out_at_the_end_of_a_window_lives_its_shortest_life(
    server: DropboxServer, page: DropboxStorage, clock: Callable[[float], None]
) -> None:
    url = page.url(PAGE[0])  # asked from Dropbox at the window's start
    clock(START + 899)
    assert page.url(PAGE[0]) == url  # handed out again at its end
    # A browser uses it 4 h - 900 s later (the shortest life the README promises), just
    # before the 4 h since Dropbox issued it; a few seconds after those 4 h it is gone.
    server.clock_offset = 899 + (4 * 3600 - 900) - 5
    assert get(server, url).content == PAGE[0].encode()
    server.clock_offset = 4 * 3600 + 5
    assert get(server, url).status_code == 410


def test_8_threads_asking_at_once_agree_and_make_one_call_per_name(
    server: DropboxServer, page: DropboxStorage, clock: Any
) -> None:
    results = at_once(lambda: [page.url(name) for name in PAGE])
    assert all(result == results[0] for result in results)
    assert server.calls["files/get_temporary_link"] == len(PAGE)


def test_a_failed_call_is_not_kept(server: DropboxServer, page: DropboxStorage, clock: Any) -> None:
    with pytest.raises(FileNotFoundError):
        page.url("page/missing.jpg")
    page.save("page/missing.jpg", ContentFile(b"now here"))
    assert get(server, page.url("page/missing.jpg")).content == b"now here"


def test_the_cache_of_links_stays_bounded(page: DropboxStorage, clock: Any) -> None:
    cache = page.links.cache
    cache.max_entries = 8  # the default bound (4,096) would take 4,096 files
    for name in PAGE:
        page.url(name)
    assert len(cache) == 8
    assert page.url(PAGE[-1]) in set(cache._urls.values())  # the newest are kept
