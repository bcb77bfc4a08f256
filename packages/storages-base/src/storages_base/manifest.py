"""Django's ``ManifestFilesMixin`` for backends built on :class:`BaseStorage`.

``HashedFilesMixin`` saves every hashed copy one after another, so on a remote store
each file waits for the previous file's request. This mixin post-processes inside
``storage.batch(hold_deletes=True)`` (``batch.py``): the hashed copies are uploaded
concurrently, reading a name still being uploaded waits for it, the manifest is written
only once every file it names is stored (a page never gets a manifest that names a
missing file), and the first failed upload fails the command. ``hold_deletes`` lets a
CSS/JS file that ``HashedFilesMixin`` deletes and saves again with the same bytes cost
nothing (a redeploy with nothing changed uploads nothing).

Use it in place of Django's: ``class MyManifestStorage(ManifestFilesMixin, MyStaticStorage)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib.staticfiles import storage as staticfiles

if TYPE_CHECKING:
    from .batch import BatchUploads

__all__ = ["ManifestFilesMixin"]


class ManifestFilesMixin(staticfiles.ManifestFilesMixin):
    """``ManifestFilesMixin`` whose post-processing uploads run concurrently."""

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self._uploads.batch(hold_deletes=True):
            yield from super().post_process(*args, **kwargs)

    def save_manifest(self) -> None:
        self._uploads._settle()  # every file first (the copies' batch too), then the manifest
        super().save_manifest()

    @property
    def _uploads(self) -> BatchUploads:
        return self  # type: ignore[return-value]  # mixed into a BaseStorage
