"""Django storage backend for Azure Blob Storage: ``storages_azure.AzureStorage``.

The SDK (azure-storage-blob) is imported on the first request, not with this package.
"""

from .storage import AzureStorage

__version__ = "0.1.0"

__all__ = ["AzureStorage"]
