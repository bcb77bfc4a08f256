"""``storages.backends.ftp``: django-storages' FTP module, answered by storages-ftp."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_ftp``.
NAMES = {
    "FTPStorage": "FTPStorage",
    "FTPStorageFile": "FTPStorageFile",
    "FTPStorageException": "FTPStorageException",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_ftp", "ftp", NAMES)
