"""Django storage backend for Azure Blob Storage: ``storages_azure.AzureStorage``.

The SDK (azure-storage-blob) is imported on the first request, not with this package.
``AzureStorageFile`` keeps django-storages' name of the file object (storages-base's
``StorageFile``, what ``storage.open()`` returns).
"""

from storages_base import StorageFile as AzureStorageFile

from .storage import AzureManifestStaticStorage, AzureStaticStorage, AzureStorage

__version__ = "0.1.0"

__all__ = [
    "AzureManifestStaticStorage",
    "AzureStaticStorage",
    "AzureStorage",
    "AzureStorageFile",
]
