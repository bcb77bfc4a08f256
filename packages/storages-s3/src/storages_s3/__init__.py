"""Django storage backend for Amazon S3 and S3-compatible services.

``storages_s3.S3Storage`` for media, ``S3StaticStorage`` and
``S3ManifestStaticStorage`` for static files; ``S3Boto3Storage`` and the
``storages_s3.s3boto3`` module keep django-storages' names working.
"""

from .files import S3File
from .storage import S3ManifestStaticStorage, S3StaticStorage, S3Storage

S3Boto3Storage = S3Storage

__version__ = "0.1.0"

__all__ = ["S3Boto3Storage", "S3File", "S3ManifestStaticStorage", "S3StaticStorage", "S3Storage"]
