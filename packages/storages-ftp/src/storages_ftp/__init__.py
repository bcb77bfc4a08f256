"""Django storage backend for FTP and FTPS servers (standard library ftplib)."""

from .storage import FTPStorage

__all__ = ["FTPStorage"]
