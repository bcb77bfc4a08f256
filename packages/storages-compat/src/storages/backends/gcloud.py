"""``storages.backends.gcloud``: django-storages' GCS module (storages-gcs)."""

from ._reexport import reexport

#: django-storages' name -> the name in ``storages_gcs``.
NAMES = {
    "GoogleCloudStorage": "GoogleCloudStorage",
    "GoogleCloudFile": "GoogleCloudFile",
}
__all__ = sorted(NAMES)
__getattr__ = reexport(__name__, "storages_gcs", "google", NAMES)
