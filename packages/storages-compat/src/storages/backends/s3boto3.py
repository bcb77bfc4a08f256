"""``storages.backends.s3boto3``: django-storages' older S3 names, answered by storages-s3."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_s3``.
NAMES = {
    "S3Boto3Storage": "S3Storage",
    "S3Boto3StorageFile": "S3File",
    "S3StaticStorage": "S3StaticStorage",
    "S3ManifestStaticStorage": "S3ManifestStaticStorage",
    "S3Storage": "S3Storage",
    "S3File": "S3File",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_s3", "s3", NAMES)
