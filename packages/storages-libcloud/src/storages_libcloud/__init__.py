"""Django storage backend for Apache Libcloud storage drivers.

``storages_libcloud.LibCloudStorage('amazon_1')`` stores files in the container of the
``LIBCLOUD_PROVIDERS['amazon_1']`` entry (django-storages' settings, unchanged).
"""

from .files import LibCloudFile
from .storage import LibCloudStorage

__version__ = "0.1.0"

__all__ = ["LibCloudFile", "LibCloudStorage"]
