"""Dropbox storage for Django (API v2, the official ``dropbox`` SDK)."""

from storages_base.errors import StorageError
from storages_base.files import StorageFile

from .storage import DropBoxStorage, DropboxStorage

#: django-storages' exception names: every error of this backend is a StorageError.
DropboxStorageException = StorageError
DropBoxStorageException = StorageError
#: django-storages' file class names: files are storages-base's streaming StorageFile.
DropboxFile = StorageFile
DropBoxFile = StorageFile

__all__ = [
    "DropBoxFile",
    "DropBoxStorage",
    "DropBoxStorageException",
    "DropboxFile",
    "DropboxStorage",
    "DropboxStorageException",
]
