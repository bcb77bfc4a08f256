"""Settings of the demo site: SQLite, one gallery app, and files on ``DEMO_STORAGE``.

See :mod:`demo.backends` for the storage choices. Nothing here is for production:
the secret key is made up at each start and ``DEBUG`` serves the admin's static files.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from demo import backends

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY") or secrets.token_urlsafe(40)
DEBUG = os.environ.get("DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", *os.environ.get("DEMO_HOSTS", "").split()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "storages_base",  # manage.py storages_check / storages_copy, and the system checks
    "gallery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded servers keep their files only while the demo runs, so the database
# that lists those files lives as long too; a real backend keeps a database file.
DEMO_STORAGE = os.environ.get("DEMO_STORAGE", "s3").lower()
_database = os.environ.get("DEMO_DB") or (
    str(BASE_DIR / "db.sqlite3")
    if DEMO_STORAGE == "real"
    else os.path.join(backends.temporary_folder("demo-db-"), "db.sqlite3")
)
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _database}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The demo serves the admin's static files from the apps (DEBUG); collectstatic and
# storages_check write here.
STATIC_ROOT = os.environ.get("DEMO_STATIC_ROOT") or backends.temporary_folder("demo-static-")
MEDIA_URL = backends.MEDIA_URL

#: The largest file the direct (browser to storage) upload form accepts.
DEMO_DIRECT_MAX_SIZE = int(os.environ.get("DEMO_DIRECT_MAX_SIZE", 10 * 1024 * 1024))

DEMO_BACKEND = backends.start(DEMO_STORAGE)
STORAGES = DEMO_BACKEND.storages
globals().update(DEMO_BACKEND.settings)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"werkzeug": {"level": "ERROR"}, "pyftpdlib": {"level": "WARNING"}},
}
