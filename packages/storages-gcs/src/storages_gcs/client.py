"""Building the google-cloud-storage client and finding the credentials.

One client per storage, shared by every thread (the SDK's requests session is
thread-safe). Credentials: ``GS_CREDENTIALS`` if given, else Application Default
Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's, the metadata server of
Cloud Run/GKE/GCE). None found is an ``ImproperlyConfigured`` that says what to set,
raised at the first request, not a traceback from google-auth. With
``STORAGE_EMULATOR_HOST`` set (a local emulator) requests are sent without
credentials, as the SDK does, so a service-account key given for signing never
sends the client to Google for a token.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from storages_base.clients import quiet_session_class, requests_environment

if TYPE_CHECKING:  # google-cloud-storage is imported on the first request
    from google.auth.credentials import Credentials
    from google.cloud.storage import Bucket, Client

    from .storage import GoogleCloudStorage

__all__ = ["SCOPES", "build_bucket", "build_client", "default_credentials", "emulator_host"]

SCOPES = (
    "https://www.googleapis.com/auth/devstorage.full_control",
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/devstorage.read_write",
)

NO_CREDENTIALS = (
    "{cls}: no Google credentials were found. Set GS_CREDENTIALS (e.g. "
    "service_account.Credentials.from_service_account_file('key.json')), or the "
    "GOOGLE_APPLICATION_CREDENTIALS environment variable to a service-account key file, "
    "or run on Google Cloud (Cloud Run, GKE, GCE) with a service account attached. "
    "({error})"
)


def emulator_host() -> str | None:
    """The emulator the SDK talks to (``STORAGE_EMULATOR_HOST``), with a scheme."""
    host = os.environ.get("STORAGE_EMULATOR_HOST")
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


def default_credentials(storage: GoogleCloudStorage) -> tuple[Credentials, str | None]:
    """Application Default Credentials and their project, or ImproperlyConfigured."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise ImproperlyConfigured(
            NO_CREDENTIALS.format(cls=type(storage).__name__, error=exc)
        ) from exc
    return credentials, project


def transport_credentials(storage: GoogleCloudStorage) -> tuple[Any, str | None]:
    """The credentials requests are sent with, and the project they imply."""
    if emulator_host():
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), storage.project_id or "<none>"  # type: ignore[no-untyped-call]
    if storage.credentials is not None:
        return storage.credentials, storage.project_id
    credentials, project = default_credentials(storage)
    return credentials, storage.project_id or project


def build_client(storage: GoogleCloudStorage) -> Client:
    """Return the storage's client (built once, shared by all threads)."""
    from google.cloud import storage as gcs

    credentials, project = transport_credentials(storage)
    options: dict[str, Any] = {}
    if storage.api_endpoint:
        options["api_endpoint"] = storage.api_endpoint
    client = gcs.Client(
        project=project,
        credentials=credentials,
        client_options=options or None,
    )
    # google-cloud-storage >= 3.x fetches each bucket's metadata in a background thread
    # on a client's first call, for tracing attributes: one extra request per storage
    # (and a 403 without storage.buckets.get). Nothing here uses it.
    client._bucket_metadata_cache = None
    quiet, bundle = requests_environment()
    if quiet:  # requests stops scanning the environment on every request
        session = client._http
        session.trust_env = False
        # Each request prepared without the merges it has nothing to merge (about 37 us
        # of client CPU per request); google-auth's credentials and refresh are unchanged.
        session.__class__ = quiet_session_class(type(session))
        if bundle and session.verify is True:
            session.verify = bundle
    return client


def build_bucket(storage: GoogleCloudStorage) -> Bucket:
    """The bucket object (no request: ``Client.bucket`` only names it)."""
    return storage.client.bucket(storage.bucket_name)


def api_base(storage: GoogleCloudStorage) -> str:
    """The JSON API's base URL this storage's requests go to (no trailing slash)."""
    return str(storage.client._connection.API_BASE_URL).rstrip("/")
