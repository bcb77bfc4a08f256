"""Temporary links (``url()``) and temporary upload links (``presigned_upload()``).

A temporary link costs one API call and lives four hours. Asked for every image of a
page, that would be one call per image per page view; so a link is kept per name and
handed out again within a reuse window (storages-base's ``SignedUrlCache``): by default
a quarter of its life, at most 15 minutes, so every link handed out still has at least
3 h 45 min to live. A link is not signed locally: each window costs one call per name.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from dropbox import files as dbx_files

from storages_base.signed_urls import SignedUrlCache
from storages_base.uploads import PresignedUpload

from .errors import dropbox_errors

if TYPE_CHECKING:
    from .storage import DropboxStorage

__all__ = ["LINK_LIFE", "PresignedUpload", "TemporaryLinks", "presigned_upload"]

#: Dropbox's temporary links expire after four hours.
LINK_LIFE = 4 * 3600


def _now() -> float:
    """The clock of the reuse window (tests move it)."""
    return time.time()


class TemporaryLinks:
    """The temporary links of one storage, reused within the window."""

    def __init__(self, storage: DropboxStorage, window: int) -> None:
        self.storage = storage
        self.cache = SignedUrlCache(window, remote=True)  # a link is an API call

    def url(self, key: str) -> str:
        def fetch(_instant: float) -> str:
            storage = self.storage
            with dropbox_errors("url", storage._name_for_key(key)):
                return str(storage.client.files_get_temporary_link(storage._path(key)).link)

        return self.cache.url(key, LINK_LIFE, _now(), fetch)


def presigned_upload(
    storage: DropboxStorage,
    name: str,
    *,
    max_size: int,
    content_type: str | None = None,
    expire: int | None = None,
    **kwargs: Any,
) -> PresignedUpload:
    """One call to ``get_temporary_upload_link``: a one-time link a browser POSTs to.

    Dropbox checks no size or type on such an upload: ``max_size`` is only reported.
    The name is chosen now (a free one when ``file_overwrite`` is off), with the write
    mode ``save()`` would use.
    """
    name = storage.get_available_name(name)
    key = storage._key(name)
    duration = min(float(expire or LINK_LIFE), float(LINK_LIFE))
    commit = dbx_files.CommitInfo(
        storage._path(key),
        mode=storage._mode(key, exclusive=not storage.file_overwrite),
        autorename=False,
    )
    with dropbox_errors("presigned_upload", name):
        answer = storage.client.files_get_temporary_upload_link(commit, duration=duration)
    return PresignedUpload.lasting(
        duration,
        url=str(answer.link),
        fields={},  # none: the file itself is the body
        headers={"Content-Type": "application/octet-stream"},
        name=name,
        key=key,
        max_size=max_size,
        content_type=content_type,
    )
