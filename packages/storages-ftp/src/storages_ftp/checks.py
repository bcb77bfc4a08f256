"""FTP's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app when ``STORAGES`` names an FTP backend. The checks
read settings only; the diagnosis reads the server's reply code met by ``storages_check``.
"""

from __future__ import annotations

from django.core.files.storage import Storage

from storages_base.checks import causes, register_diagnosis, require_option

from .errors import reply_code
from .storage import FTPStorage

__all__ = ["check_ftp_settings", "explain_ftp_failure"]


#: The server is named (``ftp://user:password@host:port/path``).
check_ftp_settings = require_option(FTPStorage, "location", "server location", "storages_ftp.E001")


@register_diagnosis(FTPStorage)
def explain_ftp_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change for an FTP reply: a refused login, a folder the user cannot write."""
    code = _reply_of(error)
    if code in (530, 532):
        return (
            "The server refused the login: check the user and password in "
            "FTP_STORAGE_LOCATION (ftp://user:password@host:port/path; quote '@', ':' and '/' "
            "in the password)."
        )
    if code in (550, 553) and isinstance(error, PermissionError):
        return (
            f"The FTP user may not {step} here: give it write permission on the folder of "
            "FTP_STORAGE_LOCATION (or point the location at a folder it owns)."
        )
    return None


def _reply_of(error: BaseException) -> int | None:
    codes = (reply_code(cause) for cause in causes(error))
    return next((code for code in codes if code is not None), None)
