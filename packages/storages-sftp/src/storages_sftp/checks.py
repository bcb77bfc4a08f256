"""SFTP's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app when ``STORAGES`` names an SFTP backend. The checks
read settings only; the diagnosis explains the failures ``storages_check`` meets.
"""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.core.files.storage import Storage, storages
from django.db.models import FileField

from storages_base.checks import (
    ConfiguredStorage,
    causes,
    missing_option,
    register_diagnosis,
    register_storage_check,
)

from .errors import HostKeyError
from .storage import SFTPStorage

__all__ = ["check_sftp_settings", "explain_sftp_failure"]


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


@register_diagnosis(SFTPStorage)
def explain_sftp_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change: an untrusted host key, a refused login, a folder not writable."""
    import paramiko

    assert isinstance(storage, SFTPStorage)
    chain = list(causes(error))
    if any(isinstance(e, HostKeyError) for e in chain):
        where = storage.known_host_file or "~/.ssh/known_hosts"
        return (
            f"Trust the server first: add its host key to {where} (SFTP_KNOWN_HOST_FILE), "
            f"e.g. ssh-keyscan -p PORT {storage.host} >> {where}, after checking its fingerprint."
        )
    if any(isinstance(e, paramiko.AuthenticationException) for e in chain):
        return (
            "The server refused the login: check username and password, key_filename or pkey "
            "in SFTP_STORAGE_PARAMS (and that the key is in the user's authorized_keys)."
        )
    if isinstance(error, PermissionError) and step in ("save", "delete"):
        return (
            f"The SSH user may not {step} in {storage.root_path or 'its home folder'}: check "
            "the owner and mode of SFTP_STORAGE_ROOT on the server."
        )
    return None
