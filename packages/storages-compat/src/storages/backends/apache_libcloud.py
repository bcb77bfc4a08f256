"""``storages.backends.apache_libcloud``: django-storages' Libcloud module (storages-libcloud)."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_libcloud``.
NAMES = {
    "LibCloudStorage": "LibCloudStorage",
    "LibCloudFile": "LibCloudFile",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_libcloud", "libcloud", NAMES)
