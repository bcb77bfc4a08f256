"""Django storage backend for Google Cloud Storage.

``storages_gcs.GoogleCloudStorage`` for media, ``GoogleCloudStaticStorage`` and
``GoogleCloudManifestStaticStorage`` for static files.
"""

from .storage import (
    GoogleCloudFile,
    GoogleCloudManifestStaticStorage,
    GoogleCloudStaticStorage,
    GoogleCloudStorage,
)

__version__ = "0.1.0"

__all__ = [
    "GoogleCloudFile",
    "GoogleCloudManifestStaticStorage",
    "GoogleCloudStaticStorage",
    "GoogleCloudStorage",
]
