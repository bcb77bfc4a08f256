"""Django storage backend for SFTP servers (paramiko).

``STORAGES = {"default": {"BACKEND": "storages_sftp.SFTPStorage", "OPTIONS": {...}}}``;
the options and their ``SFTP_*`` settings are listed in the package README.
"""

from storages_base.files import StorageFile

from .errors import HostKeyError
from .storage import SFTPStorage

#: django-storages' name of the file object, for code that imports it.
SFTPStorageFile = StorageFile

__version__ = "0.1.0"

__all__ = ["HostKeyError", "SFTPStorage", "SFTPStorageFile"]
