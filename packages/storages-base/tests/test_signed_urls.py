"""storages_base.signed_urls: the reuse window and the bounded cache of signed URLs."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from storages_base.signed_urls import SignedUrlCache, reuse_window


def reuse(window: object, expire: int) -> int:
    return reuse_window(window, expire, setting="X_WINDOW", expire_setting="X_EXPIRE")


def test_the_default_window_is_a_quarter_of_the_expiry_at_most_15_minutes() -> None:
    assert reuse(None, 3600) == 900
    assert reuse(None, 7 * 24 * 3600) == 900
    assert reuse(None, 100) == 25
    assert reuse(None, 3) == 0


@pytest.mark.parametrize("window", [-5, 1.5, "60", True])
def test_a_window_must_be_whole_seconds(window: object) -> None:
    with pytest.raises(ImproperlyConfigured, match="X_WINDOW must be a whole number"):
        reuse(window, 3600)


def test_a_window_not_shorter_than_the_expiry_is_refused() -> None:
    with pytest.raises(
        ImproperlyConfigured, match=r"X_WINDOW \(60 s\) must be shorter than X_EXPIRE \(60 s\)"
    ):
        reuse(60, 60)
    assert reuse(59, 60) == 59
    assert reuse(0, 60) == 0


def builder(signed: list[float]):  # type: ignore[no-untyped-def]
    def build(instant: float) -> str:
        signed.append(instant)
        return f"url@{instant}"

    return build


def test_urls_are_signed_at_the_window_start_once_per_window() -> None:
    cache, signed = SignedUrlCache(60), []
    assert cache.url("a", 600, 1000.5, builder(signed)) == "url@960.0"
    assert cache.url("a", 600, 1019.0, builder(signed)) == "url@960.0"
    assert cache.url("a", 600, 1020.0, builder(signed)) == "url@1020.0"
    assert signed == [960.0, 1020.0]
    assert len(cache) == 1  # the previous window's URLs were dropped


def test_a_shorter_expiry_than_the_window_gets_a_quarter_of_it() -> None:
    cache, signed = SignedUrlCache(60), []
    assert cache.url("a", 40, 1005.0, builder(signed)) == "url@1000.0"
    assert cache.url("a", 3, 1005.5, builder(signed)) == "url@1005.5"  # too short to reuse


def test_unhashable_parts_are_signed_but_not_kept() -> None:
    cache, signed = SignedUrlCache(60), []
    what = ("a", {"tags": {"x": ["1", "2"]}})
    assert cache.url(what, 600, 1000.0, builder(signed)) == "url@960.0"
    assert cache.url(what, 600, 1000.0, builder(signed)) == "url@960.0"
    assert signed == [960.0]  # dicts and lists are keys too
    odd = ("a", {"x": {1, 2}})  # a set cannot be a key: signed every time
    cache.url(odd, 600, 1000.0, builder(signed))
    cache.url(odd, 600, 1000.0, builder(signed))
    assert len(signed) == 3


def test_the_oldest_go_first() -> None:
    cache, signed = SignedUrlCache(60, max_entries=3), []
    for name in "abcd":
        cache.url(name, 600, 1000.0, builder(signed))
    assert len(cache) == 3
    cache.url("d", 600, 1000.0, builder(signed))  # kept
    cache.url("a", 600, 1000.0, builder(signed))  # dropped: signed again
    assert len(signed) == 5


def test_window_zero_signs_every_call() -> None:
    cache, signed = SignedUrlCache(0), []
    cache.url("a", 600, 1000.25, builder(signed))
    cache.url("a", 600, 1000.25, builder(signed))
    assert signed == [1000.25, 1000.25]
    assert len(cache) == 0


def test_a_remote_signer_is_called_once_per_url_by_threads_missing_it_together() -> None:
    """``remote=True`` (IAM signBlob, Dropbox links): the first thread's call serves the
    others; a call that fails is made again by the next thread, not shared as a failure."""
    calls: list[float] = []
    failures = [True]  # the first call fails
    gate = threading.Event()

    def build(instant: float) -> str:
        gate.wait(5)  # every thread has missed before the first call returns
        calls.append(instant)
        if failures and failures.pop():
            raise OSError("signBlob refused")
        return f"url@{instant}"

    cache = SignedUrlCache(900, remote=True)
    answers: list[str] = []
    errors: list[Exception] = []

    def ask() -> None:
        try:
            answers.append(cache.url("a.jpg", 3600, 1000.0, build))
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()
    assert len(errors) == 1  # the thread whose call failed sees the failure
    assert answers == ["url@900.0"] * 7
    assert calls == [900.0, 900.0]  # the failed call, then one more for all the others
