"""``storages.backends.sftpstorage``: django-storages' SFTP module, answered by storages-sftp."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_sftp``.
NAMES = {
    "SFTPStorage": "SFTPStorage",
    "SFTPStorageFile": "SFTPStorageFile",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_sftp", "sftp", NAMES)
