"""SFTP's system checks, registered with ``storages_base.checks`` (no network).

Imported by the ``storages_base`` app when ``STORAGES`` names an SFTP backend.
"""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.core.files.storage import storages
from django.db.models import FileField

from storages_base.checks import ConfiguredStorage, missing_option, register_storage_check

from .storage import SFTPStorage

__all__ = ["check_sftp_settings"]


@register_storage_check(SFTPStorage)
def check_sftp_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """A host is named; no password prompt on a storage that takes users' uploads."""
    messages: list[checks.CheckMessage] = []
    messages += missing_option(item, "host", "host", "storages_sftp.E001")
    if item.value("interactive"):
        uploads = _takes_uploads(item.alias)
        if uploads:
            messages.append(
                checks.Warning(
                    f"{item.label} asks for a password on the terminal "
                    f"({item.source('interactive')} is True), but it stores "
                    f"{', '.join(uploads)}: no one can type it while a visitor uploads.",
                    hint="Put a password or a key in SFTP_STORAGE_PARAMS and set "
                    "SFTP_STORAGE_INTERACTIVE = False; keep interactive logins for a "
                    "storage used by collectstatic only.",
                    id="storages_sftp.W001",
                )
            )
    return messages


def _takes_uploads(alias: str) -> list[str]:
    """What the storage of ``alias`` stores for the site: the default storage, file fields."""
    found = ["the default storage (users' uploads)"] if alias == "default" else []
    try:
        instance = storages[alias]
    except Exception:  # a storage that cannot be built is reported by storages_base
        return found
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and field.storage is instance:
                found.append(f"{model._meta.label}.{field.name}")
    return found
