"""Settings of a project written for django-storages 1.14.6, unchanged.

Only the values a test run must vary (the S3 endpoint and bucket, the database file)
come from the environment; every name is django-storages'.
"""

import os

SECRET_KEY = "compat-project"
DEBUG = False
USE_TZ = True
ROOT_URLCONF = "compat_project.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "compat_project.gallery",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("COMPAT_DB", ":memory:"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STORAGES = {
    "default": {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"},
    "staticfiles": {
        "BACKEND": "storages.backends.s3.S3StaticStorage",
        "OPTIONS": {"location": "static"},
    },
}
STATIC_URL = "/static/"
MEDIA_URL = "/media/"

AWS_STORAGE_BUCKET_NAME = os.environ.get("COMPAT_BUCKET", "compat-media")
AWS_S3_ENDPOINT_URL = os.environ.get("COMPAT_ENDPOINT", "http://127.0.0.1:9")
AWS_S3_REGION_NAME = "us-east-1"
AWS_ACCESS_KEY_ID = "testing"
AWS_SECRET_ACCESS_KEY = "testing"
AWS_S3_FILE_OVERWRITE = False
AWS_LOCATION = "media"
AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "max-age=86400"}
AWS_QUERYSTRING_EXPIRE = 600

FTP_STORAGE_LOCATION = "ftp://archive:secret@127.0.0.1:2121/"
SFTP_STORAGE_HOST = "127.0.0.1"
SFTP_STORAGE_ROOT = "/srv/reports"
