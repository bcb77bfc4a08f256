"""``storages.backends.dropbox``: django-storages' Dropbox module, answered by storages-dropbox."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_dropbox``.
NAMES = {
    "DropboxStorage": "DropboxStorage",
    "DropBoxStorage": "DropboxStorage",
    "DropboxFile": "DropboxFile",
    "DropBoxFile": "DropboxFile",
    "DropboxStorageException": "DropboxStorageException",
    "DropBoxStorageException": "DropboxStorageException",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_dropbox", "dropbox", NAMES)
