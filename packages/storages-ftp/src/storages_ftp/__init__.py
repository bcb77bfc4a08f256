"""Django storage backend for FTP and FTPS servers (standard library ftplib)."""

from storages_base.errors import StorageError
from storages_base.files import StorageFile

from .storage import FTPStorage

#: django-storages' names, for code that imports them.
FTPStorageException = StorageError
FTPStorageFile = StorageFile

__all__ = ["FTPStorage", "FTPStorageException", "FTPStorageFile"]
