"""Django storage backend for Dropbox."""
