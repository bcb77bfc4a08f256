"""Django storage backend for SFTP servers (paramiko).

``STORAGES = {"default": {"BACKEND": "storages_sftp.SFTPStorage", "OPTIONS": {...}}}``;
the options and their ``SFTP_*`` settings are listed in the package README.
"""

from .errors import HostKeyError
from .storage import SFTPStorage

__version__ = "0.1.0"

__all__ = ["HostKeyError", "SFTPStorage"]
