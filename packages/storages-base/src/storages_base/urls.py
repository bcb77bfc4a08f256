"""URLs of files that a web server publishes under a base URL (``MEDIA_URL`` and the like).

Backends without URLs of their own (memory, FTP, SFTP, a local folder) answer
``url()`` the way Django's ``FileSystemStorage`` does, so a project that moves its
files there keeps the same URLs: the name percent-encoded as a path, joined under a
base URL that is taken as a folder, and a clear error when there is none.
"""

from __future__ import annotations

from urllib.parse import urljoin

from django.utils.encoding import filepath_to_uri

__all__ = ["published_url"]


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
