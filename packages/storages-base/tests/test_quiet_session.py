"""quiet_session_class: the same requests as requests' own session, without its merges."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from storages_base.clients import quiet_session_class

requests = pytest.importorskip("requests")


def sessions(**settings: Any) -> tuple[Any, Any]:
    """requests' own session and the quiet one, set up alike (no environment read)."""
    made = []
    for cls in (requests.Session, quiet_session_class(requests.Session)):
        session = cls()
        session.trust_env = False
        session.headers["X-Session"] = "s"
        for name, value in settings.items():
            setattr(session, name, value)
        made.append(session)
    return made[0], made[1]


def sent(prepared: Any) -> tuple[Any, ...]:
    return (prepared.method, prepared.url, list(prepared.headers.items()), prepared.body,
            prepared.hooks)  # fmt: skip


REQUESTS = [
    {"method": "get", "url": "http://127.0.0.1:1/b/o?prefix=a%2F&x=1"},
    {"method": "GET", "url": "http://127.0.0.1:1/b/o", "params": {"a": "1", "b": None}},
    {"method": "PUT", "url": "http://127.0.0.1:1/c/a b.txt", "data": b"x" * 100,
     "headers": {"Content-Type": "text/plain", "x-session": None, "X-Ms-Date": "now"}},
    {"method": "POST", "url": "http://127.0.0.1:1/u", "json": {"name": "é"}},
    {"method": "POST", "url": "http://127.0.0.1:1/u", "data": {"field": "v"}},
    {"method": "POST", "url": "http://127.0.0.1:1/u", "files": {"f": ("a.txt", b"hi")}},
    {"method": "GET", "url": "http://user:pw@127.0.0.1:1/private"},
    {"method": "GET", "url": "http://127.0.0.1:1/p", "params": [("a", "1"), ("a", "2")]},
    {"method": "GET", "url": "http://127.0.0.1:1/p", "auth": ("u", "p")},
    {"method": "GET", "url": "http://127.0.0.1:1/p", "cookies": {"c": "1"}},
    {"method": "GET", "url": "http://127.0.0.1:1/p", "hooks": {"response": [print]}},
]  # fmt: skip


@pytest.mark.parametrize("given", REQUESTS)
def test_a_request_is_prepared_as_requests_prepares_it(given: dict[str, Any]) -> None:
    plain, quiet = sessions()
    if "files" in given:  # a multipart boundary is random: compare all but the boundary
        a = plain.prepare_request(requests.Request(**given))
        b = quiet.prepare_request(requests.Request(**given))
        a.headers["Content-Type"] = b.headers["Content-Type"].partition("boundary=")[0]
        b.headers["Content-Type"] = a.headers["Content-Type"]
        assert sent(a)[:3] == sent(b)[:3]
        assert len(a.body) == len(b.body)
        return
    assert sent(quiet.prepare_request(requests.Request(**given))) == sent(
        plain.prepare_request(requests.Request(**given))
    )


@pytest.mark.parametrize(
    "settings",
    [{"params": {"k": "v"}}, {"auth": ("u", "p")}, {"hooks": {"response": [print]}},
     {"headers": {"A": "1", "B": None}}],
)  # fmt: skip
def test_what_the_session_holds_is_merged_as_requests_merges_it(settings: dict[str, Any]) -> None:
    plain, quiet = sessions(**settings)
    given = {"method": "GET", "url": "http://127.0.0.1:1/p", "headers": {"C": "3"}}
    assert sent(quiet.prepare_request(requests.Request(**given))) == sent(
        plain.prepare_request(requests.Request(**given))
    )


def test_a_plain_request_skips_the_session_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    _plain, quiet = sessions()

    def merged(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("requests' merges were run")

    monkeypatch.setattr(requests.Session, "prepare_request", merged)
    monkeypatch.setattr(requests.Session, "merge_environment_settings", merged)
    request = requests.Request("GET", "http://127.0.0.1:1/p", headers={"A": "1"})
    assert quiet.prepare_request(request).headers["A"] == "1"
    settings = quiet.merge_environment_settings("http://127.0.0.1:1/p", {}, None, None, None)
    assert settings == {"proxies": {}, "stream": False, "verify": True, "cert": None}


@pytest.mark.parametrize(
    "given",
    [({}, None, None, None), (None, True, False, None), ({"http": "http://p:1"}, None, None, "c"),
     (None, None, "/ca.pem", ("c", "k"))],
)  # fmt: skip
def test_environment_settings_are_requests_own(given: tuple[Any, ...]) -> None:
    plain, quiet = sessions()
    url = "http://127.0.0.1:1/p"
    assert quiet.merge_environment_settings(url, *given) == plain.merge_environment_settings(
        url, *given
    )


@pytest.fixture
def cookie_server() -> Iterator[tuple[str, list[str | None]]]:
    """Sets a cookie on its first answer; records the Cookie header of every request."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(self.headers.get("Cookie"))
            self.send_response(200)
            if len(seen) == 1:
                self.send_header("Set-Cookie", "affinity=node-2; Path=/")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_a_cookie_the_server_sets_is_sent_back(
    cookie_server: tuple[str, list[str | None]],
) -> None:
    """A load balancer's affinity cookie is kept and sent with the next requests."""
    url, seen = cookie_server
    _plain, quiet = sessions()
    with quiet:
        assert quiet.get(url + "/a").text == "ok"
        assert quiet.get(url + "/b").text == "ok"
    assert seen == [None, "affinity=node-2"]
