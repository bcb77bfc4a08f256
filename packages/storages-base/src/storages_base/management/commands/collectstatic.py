"""``manage.py collectstatic`` whose copies (and post-processing) upload concurrently.

Django's command saves one file after another. This one runs its copy phase and the
storage's ``post_process()`` inside ``storage.batch()`` (``storages_base.batch``), so the
copies go to the storage's upload threads while the next files are read, and the command
still fails on the first failed upload (when the batch ends, before it reports success).

It replaces Django's when ``"storages_base"`` comes before ``"django.contrib.staticfiles"``
in ``INSTALLED_APPS`` (Django runs the command of the first app that has one). A storage
without ``batch()`` (not built on ``BaseStorage``) is collected exactly as Django does.

On a storage with Django's own ``HashedFilesMixin`` (Django's ``ManifestFilesMixin``), the
batch holds deletes back (``hold_deletes``): that mixin deletes every CSS/JS hashed file
and saves it again, and the same bytes then cost no request (this package's
``ManifestFilesMixin`` asks for it itself, with or without this command).
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.contrib.staticfiles.storage import HashedFilesMixin


class Command(collectstatic.Command):
    help = collectstatic.Command.help + " Uploads concurrently (storages_base)."

    def collect(self) -> dict[str, Any]:
        batch = getattr(self.storage, "batch", None)
        if batch is None or self.dry_run or self.symlink:
            return super().collect()
        with batch(hold_deletes=isinstance(self.storage, HashedFilesMixin)):
            return super().collect()
