"""Django storage backend for Azure Blob Storage."""
