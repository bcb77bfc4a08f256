"""WSGI entry point (``gunicorn demo.wsgi``), for running the demo behind a real server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
application = get_wsgi_application()
