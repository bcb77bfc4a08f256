"""Django storage backend for Google Cloud Storage."""
