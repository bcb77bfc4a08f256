"""django-storages' classic names (``storages.backends.s3boto3``), kept for migration.

Change ``storages.backends.s3boto3.S3Boto3Storage`` to
``storages_s3.s3boto3.S3Boto3Storage`` (or ``storages_s3.S3Storage``); every
``AWS_*`` setting keeps working.
"""

from .files import S3File
from .files import S3File as S3Boto3StorageFile
from .storage import S3ManifestStaticStorage, S3StaticStorage
from .storage import S3Storage as S3Boto3Storage

__all__ = [
    "S3Boto3Storage",
    "S3Boto3StorageFile",
    "S3File",
    "S3ManifestStaticStorage",
    "S3StaticStorage",
]
