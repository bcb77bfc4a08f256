"""Django's ``ManifestFilesMixin`` for backends built on :class:`BaseStorage`.

``HashedFilesMixin`` saves every hashed copy one after another, so on a remote store
each file waits for the previous file's request. Under this mixin those saves go to
the upload threads, as collectstatic's own copies do (``deferred.py``): reading a
name still being uploaded waits for it, the manifest is written only once every file
it names is stored (a page never gets a manifest that names a missing file), and the
first failed upload fails the command.

Use it in place of Django's: ``class MyManifestStorage(ManifestFilesMixin, MyStaticStorage)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.staticfiles import storage as staticfiles

__all__ = ["ManifestFilesMixin"]


class ManifestFilesMixin(staticfiles.ManifestFilesMixin):
    """``ManifestFilesMixin`` whose post-processing uploads run concurrently."""

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from super().post_process(*args, **kwargs)
        self._settle()  # type: ignore[attr-defined]  # BaseStorage's: wait, raise errors

    def save_manifest(self) -> None:
        self._settle()  # type: ignore[attr-defined]  # the files first, then the manifest
        super().save_manifest()
