"""``storages.backends.s3``: django-storages' S3 module, answered by storages-s3."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_s3``.
NAMES = {
    "S3Storage": "S3Storage",
    "S3StaticStorage": "S3StaticStorage",
    "S3ManifestStaticStorage": "S3ManifestStaticStorage",
    "S3File": "S3File",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_s3", "s3", NAMES)
