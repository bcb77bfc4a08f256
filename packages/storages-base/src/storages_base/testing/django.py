"""A minimal Django configuration for backend test suites (no project needed)."""

from __future__ import annotations

import tempfile
from typing import Any

import django
from django.conf import settings

#: Settings every suite runs with; ``setup_django(**overrides)`` changes them.
TEST_SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "storages-tests-only",
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    "MEDIA_URL": "/media/",
    "STATIC_URL": "/static/",
    "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    "INSTALLED_APPS": [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "storages_base.testing.app",
    ],
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
}


def setup_django(**overrides: Any) -> None:
    """Configure Django for tests once per process (idempotent)."""
    if settings.configured:
        return
    values = {**TEST_SETTINGS, **overrides}
    values.setdefault("FILE_UPLOAD_TEMP_DIR", tempfile.gettempdir())
    settings.configure(**values)
    django.setup()


def collectstatic(storage: Any, static_dir: Any, *, batch: bool = True) -> None:
    """Run ``collectstatic`` from ``static_dir`` into ``storage``: this package's command
    (copies in ``storage.batch()``), or with ``batch=False`` Django's own."""
    from django.contrib.staticfiles.management.commands import collectstatic as django_command
    from django.core.management import call_command
    from django.test import override_settings

    from ..management.commands import collectstatic as our_command

    apps = list(dict.fromkeys([*settings.INSTALLED_APPS, "django.contrib.staticfiles"]))
    with override_settings(INSTALLED_APPS=apps, STATICFILES_DIRS=[str(static_dir)]):
        command = (our_command if batch else django_command).Command()
        command.storage = storage
        call_command(command, interactive=False, verbosity=0)


def docs_session(storage: Any) -> None:
    """The session django-storages' docs show for every backend: ``open(name, "w")``, write
    text, read it back, delete; ``exists()`` between each step. The seed tests of each
    provider run it on the storage as its docs configure it."""
    assert storage.exists("storage_test") is False
    file = storage.open("storage_test", "w")
    file.write("storage contents")
    file.close()
    assert storage.exists("storage_test") is True
    file = storage.open("storage_test", "r")
    assert file.read() == "storage contents"
    file.close()
    storage.delete("storage_test")
    assert storage.exists("storage_test") is False


def run_storages_check(*aliases: str) -> tuple[str, int]:
    """Run ``manage.py storages_check`` on ``aliases`` (all: none given); return what it
    printed and its exit status (0, or the status its ``CommandError`` carries)."""
    import io

    from django.core.management import CommandError, call_command

    from storages_base.management.commands import storages_check

    out = io.StringIO()
    try:
        call_command(storages_check.Command(), *aliases, stdout=out, no_color=True)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0
