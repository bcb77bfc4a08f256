"""The demo's smoke check: walk through the running site over HTTP, as a visitor would.

Upload a PNG through Django, fetch it from the URL the gallery shows (the storage
server's own, signed where the backend signs), upload one straight to the storage
with a presigned POST where the backend has them, then delete both and see them gone,
from the page and from the storage. Only the standard library speaks HTTP here.
"""

from __future__ import annotations

import html
import http.cookiejar
import io
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.files.storage import default_storage

__all__ = ["png", "run"]

Say = Callable[[str], object]


def png(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    """A small gradient PNG (different for each seed), made with Pillow."""
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // width, (y * 255) // height, (seed * 97) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    """Encode a multipart/form-data body (files last, as S3's POST requires)."""
    boundary = "----demo" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for name, (filename, data, content_type) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Item:
    """One upload as the gallery page lists it."""

    pk: int
    names: list[str]
    images: list[str]


def items(page: str) -> dict[int, Item]:
    found = {}
    for block in page.split('<li class="item" id="upload-')[1:]:
        pk = int(block.split('"', 1)[0])
        names = [html.unescape(n) for n in re.findall(r'<dd class="name">([^<]*)</dd>', block)]
        images = [html.unescape(s) for s in re.findall(r'<img src="([^"]+)"', block)]
        found[pk] = Item(pk, names, images)
    return found


class Visitor:
    """A browser without a browser: cookies, CSRF token, forms and fetches."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def csrf(self) -> str:
        return str(next(c.value for c in self.cookies if c.name == "csrftoken"))

    def get(self, path: str) -> str:
        with self.opener.open(urllib.parse.urljoin(self.site, path), timeout=30) as response:
            return str(response.read().decode())

    def post(
        self,
        path: str,
        fields: dict[str, str],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> str:
        body, content_type = multipart({"csrfmiddlewaretoken": self.csrf(), **fields}, files or {})
        request = urllib.request.Request(
            urllib.parse.urljoin(self.site, path), data=body, headers={"Content-Type": content_type}
        )
        with self.opener.open(request, timeout=30) as response:
            return str(response.read().decode())

    def post_json(self, path: str, data: dict[str, object]) -> dict[str, Any]:
        request = urllib.request.Request(
            urllib.parse.urljoin(self.site, path),
            data=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf()},
        )
        with self.opener.open(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def fetch(self, url: str) -> bytes:
        """Fetch a file URL: absolute ones from the storage server, relative ones from the site."""
        with urllib.request.urlopen(urllib.parse.urljoin(self.site, url), timeout=30) as response:
            return response.read()  # type: ignore[no-any-return]


def run(site: str, say: Say = print) -> bool:
    """Walk through the site at ``site``; report each step with ``say``; True if all passed."""
    visitor = Visitor(site)
    failures = 0

    def step(label: str, action: Callable[[], str]) -> None:
        nonlocal failures
        started = time.perf_counter()
        try:
            detail = action()
        except Exception as exc:
            failures += 1
            detail = f"FAILED {type(exc).__name__}: {exc}"
        say(f"  {label:<34} {(time.perf_counter() - started) * 1000:7.1f} ms  {detail}")

    state: dict[str, Item] = {}
    image = png(seed=1)
    say(f"Checking {site}")
    step("open the gallery", lambda: f"{len(visitor.get('/'))} bytes of HTML")
    step("upload a PNG through Django", lambda: _upload(visitor, image, state))
    step("fetch it from the gallery's URL", lambda: _fetch_image(visitor, state["django"], image))
    page = visitor.get("/")
    if 'id="direct-status"' in page:
        direct = png(seed=2)
        step("upload a PNG straight to storage", lambda: _direct(visitor, direct, state))
        step("fetch the direct upload", lambda: _fetch_image(visitor, state["direct"], direct))
    else:
        say("  (this storage has no presigned uploads: direct upload skipped)")
    for key, item in list(state.items()):
        step(f"delete the {key} upload", partial(_delete, visitor, item))
    return failures == 0


def _upload(visitor: Visitor, image: bytes, state: dict[str, Item]) -> str:
    before = set(items(visitor.get("/")))
    page = visitor.post(
        "/upload/", {"title": "smoke"}, {"image": ("smoke.png", image, "image/png")}
    )
    new = [item for pk, item in items(page).items() if pk not in before]
    if len(new) != 1 or not new[0].images:
        raise AssertionError("the gallery does not show the new image")
    state["django"] = new[0]
    return new[0].names[0]


def _fetch_image(visitor: Visitor, item: Item, image: bytes) -> str:
    url = item.images[0]
    data = visitor.fetch(url)
    if data != image:
        raise AssertionError(f"{url} returned {len(data)} bytes that are not the PNG")
    where = urllib.parse.urlsplit(urllib.parse.urljoin(visitor.site, url))
    return f"{len(data)} bytes from {where.scheme}://{where.netloc}"


def _direct(visitor: Visitor, image: bytes, state: dict[str, Item]) -> str:
    signed = visitor.post_json(
        "/direct/sign/", {"filename": "direct.png", "content_type": "image/png", "size": len(image)}
    )
    if signed.get("method") == "PUT" or not signed.get("fields"):
        # Azure (a PUT) and Dropbox (a POST to a one-time link): the file is the body.
        request = urllib.request.Request(
            signed["url"], data=image, headers=dict(signed["headers"]), method=signed["method"]
        )
    else:
        body, content_type = multipart(
            dict(signed["fields"]),
            {"file": ("direct.png", image, "image/png")},
        )
        request = urllib.request.Request(
            signed["url"], data=body, headers={"Content-Type": content_type}
        )
    with urllib.request.urlopen(request, timeout=30) as response:
        status = response.status
    done = visitor.post_json("/direct/complete/", {"ticket": signed["ticket"], "title": "direct"})
    item = items(visitor.get("/")).get(int(done["id"]))
    if item is None or not item.images:
        raise AssertionError("the gallery does not show the direct upload")
    state["direct"] = item
    return f"HTTP {status} from {urllib.parse.urlsplit(signed['url']).netloc}, {done['name']}"


def _delete(visitor: Visitor, item: Item) -> str:
    page = visitor.post(f"/delete/{item.pk}/", {})
    if item.pk in items(page):
        raise AssertionError("the gallery still lists it")
    left = [name for name in item.names if default_storage.exists(name)]
    if left:
        raise AssertionError(f"still in the storage: {left}")
    try:
        visitor.fetch(item.images[0])
    except urllib.error.HTTPError as exc:
        return f"gone from page and storage; its URL now answers {exc.code}"
    raise AssertionError("its URL still serves the file")
