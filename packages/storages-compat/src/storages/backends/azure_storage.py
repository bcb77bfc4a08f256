"""``storages.backends.azure_storage``: django-storages' Azure module (storages-azure)."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_azure``.
NAMES = {
    "AzureStorage": "AzureStorage",
    "AzureStorageFile": "AzureStorageFile",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_azure", "azure", NAMES)
