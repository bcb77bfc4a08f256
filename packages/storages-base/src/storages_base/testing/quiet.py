"""A storage's SDK requests prepared by ``storages_base.clients.quiet_session_class``.

:func:`check_requests_skip_session_merges` builds a storage with no proxy in the
environment, makes requests' session-wide merges raise, and uses the storage for every
kind of request it sends: each operation still works (so none of its requests went
through them) and gives what it gave before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile

__all__ = ["check_requests_skip_session_merges"]

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def check_requests_skip_session_merges(make: Callable[[], Any], monkeypatch: Any) -> None:
    import requests

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    storage = make()

    def merged(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request went through requests' session-wide merges")

    monkeypatch.setattr(requests.Session, "prepare_request", merged)
    monkeypatch.setattr(requests.Session, "merge_environment_settings", merged)
    assert storage.save("quiet/a.txt", ContentFile(b"hello")) == "quiet/a.txt"
    assert storage.exists("quiet/a.txt")
    assert not storage.exists("quiet/missing.txt")
    assert storage.size("quiet/a.txt") == 5
    with storage.open("quiet/a.txt") as file:
        assert file.read() == b"hello"
    assert storage.listdir("quiet") == ([], ["a.txt"])
    storage.delete("quiet/a.txt")
    assert not storage.exists("quiet/a.txt")
