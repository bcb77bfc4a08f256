"""Dropbox storage for Django (API v2, the official ``dropbox`` SDK)."""

from storages_base.errors import StorageError

from .storage import DropBoxStorage, DropboxStorage

#: django-storages' exception names: every error of this backend is a StorageError.
DropboxStorageException = StorageError
DropBoxStorageException = StorageError

__all__ = ["DropBoxStorage", "DropBoxStorageException", "DropboxStorage", "DropboxStorageException"]
