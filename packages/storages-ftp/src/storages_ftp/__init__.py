"""Django storage backend for FTP and FTPS servers (standard library ftplib)."""
