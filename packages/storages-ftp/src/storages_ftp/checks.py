"""FTP's system checks, registered with ``storages_base.checks`` (no network).

Imported by the ``storages_base`` app when ``STORAGES`` names an FTP backend.
"""

from __future__ import annotations

from django.core import checks

from storages_base.checks import ConfiguredStorage, missing_option, register_storage_check

from .storage import FTPStorage

__all__ = ["check_ftp_settings"]


@register_storage_check(FTPStorage)
def check_ftp_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """The server is named (``ftp://user:password@host:port/path``)."""
    return list(missing_option(item, "location", "server location", "storages_ftp.E001"))
