"""``storages_base`` as a Django app: management commands and system checks.

Add ``"storages_base"`` to ``INSTALLED_APPS`` to get ``manage.py storages_check`` and
``manage.py storages_copy``, and the ``storages`` system checks run by ``manage.py
check`` (no network). The checks of a provider live in its own ``checks.py``, which
is imported here for every backend named in ``STORAGES``.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class StoragesBaseConfig(AppConfig):
    name = "storages_base"
    label = "storages_base"
    verbose_name = "Storages"

    def ready(self) -> None:
        from .checks import check_storages, load_provider_checks

        load_provider_checks()
        checks.register(check_storages, "storages")
