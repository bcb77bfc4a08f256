"""URLs of files that a web server publishes under a base URL (``MEDIA_URL`` and the like).

Backends without URLs of their own (memory, FTP, SFTP, a local folder) answer
``url()`` the way Django's ``FileSystemStorage`` does, so a project that moves its
files there keeps the same URLs: the name percent-encoded as a path, joined under a
base URL that is taken as a folder, and a clear error when there is none.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin

from django.utils.encoding import filepath_to_uri

__all__ = ["Quoter", "published_url"]

#: What ``quote`` never escapes (RFC 3986 unreserved).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


class Quoter(dict[int, str]):
    """``urllib.parse.quote(text, safe=safe)`` as a ``str.translate`` table, for URL signers.

    A signed URL quotes its key and its query values every time; ``quote`` encodes and
    scans byte by byte, which costs more than the rest of a URL but its signature. The
    table learns each character once (bounded, in case names are hostile); a text is
    translated from its first character to escape on (a key's folders seldom have one),
    and one with nothing to escape is returned as it is. Same output as ``quote`` (UTF-8).
    """

    def __init__(self, safe: str = "/") -> None:
        super().__init__()
        self.safe = safe
        self._first_unsafe = re.compile(f"[^A-Za-z0-9_.~{re.escape(safe)}-]").search
        self._kept = _UNRESERVED | {char for char in safe if char < "\x80"}

    def __missing__(self, code: int) -> str:
        if code < 0x80:  # what ``quote`` gives, without its encode and byte scan
            char = chr(code)
            quoted = char if char in self._kept else f"%{code:02X}"
        else:
            quoted = quote(chr(code), safe=self.safe)
        if len(self) < 4096:
            self[code] = quoted
        return quoted

    def __call__(self, text: str) -> str:
        found = self._first_unsafe(text)
        if found is None:
            return text
        start = found.start()
        return text[:start] + text[start:].translate(self)


def published_url(base_url: str | None, name: str, *, setting: str = "base_url") -> str:
    """Return the URL of ``name`` under ``base_url``, as ``FileSystemStorage.url()`` does.

    ``base_url`` is a folder: a missing trailing slash is added (``https://cdn/media``
    keeps ``media``), and ``""`` is the site's root. ``None`` means the files are not
    published: a ``ValueError`` names the ``setting`` to set.
    """
    if base_url is None:
        raise ValueError(f"This file is not accessible via a URL: set {setting}.")
    if not base_url.endswith("/"):
        base_url += "/"
    return urljoin(base_url, filepath_to_uri(name).lstrip("/"))
