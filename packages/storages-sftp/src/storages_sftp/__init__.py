"""Django storage backend for SFTP servers (paramiko)."""
