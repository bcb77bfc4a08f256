"""From a ``LIBCLOUD_PROVIDERS`` entry to a libcloud driver, one per thread.

libcloud drivers hold a connection object that is not safe to share between threads,
so :class:`Drivers` builds one driver per thread (building one makes no request).
Everything a bad entry can get wrong is refused here with ``ImproperlyConfigured``,
at construction, naming the provider and what to change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = ["PROVIDER_PREFIX", "Drivers", "ProviderConfig", "provider_config", "resolve_type"]

PROVIDER_PREFIX = "libcloud.storage.types.Provider."

#: The provider constants of the seed's examples that libcloud 3 renamed (its S3 region
#: drivers lost the ``_HOST`` suffix; the seed spells CloudFiles "CLOUDFIULES").
LEGACY_TYPES = {
    "S3_US_STANDARD_HOST": "S3",
    "S3_US_WEST_HOST": "S3_US_WEST",
    "S3_US_WEST_OREGON_HOST": "S3_US_WEST_OREGON",
    "S3_EU_WEST_HOST": "S3_EU_WEST",
    "S3_AP_SOUTHEAST_HOST": "S3_AP_SOUTHEAST",
    "S3_AP_NORTHEAST_HOST": "S3_AP_NORTHEAST",
    "CLOUDFIULES_US": "CLOUDFILES",
    "CLOUDFIULES_UK": "CLOUDFILES",
    "CLOUDFILES_US": "CLOUDFILES",
    "CLOUDFILES_UK": "CLOUDFILES",
}

#: Keys of an entry that are not driver arguments.
OWN_KEYS = ("type", "user", "key", "bucket")

CA_ADVICE = (
    "If libcloud found no CA certificates, point it at a bundle in settings.py: "
    "`import libcloud.security; libcloud.security.CA_CERTS_PATH = '/path/to/cacert.pem'` "
    "(libcloud 3 takes one path; the `CA_CERTS_PATH.append(...)` of libcloud 0.x is gone), "
    "or set SSL_CERT_FILE."
)


def resolve_type(value: Any, provider_name: str) -> str:
    """Return the libcloud ``Provider`` value of an entry's ``type``.

    Accepted: the dotted path (``'libcloud.storage.types.Provider.S3'``), the constant's
    name (``'S3'``), its value (``'s3'``) or the enum member itself.
    """
    from libcloud.storage.types import Provider

    text = str(value or "")
    name = text[len(PROVIDER_PREFIX) :] if text.startswith(PROVIDER_PREFIX) else text
    name = LEGACY_TYPES.get(name, name)
    found = getattr(Provider, name, None) if name.isidentifier() else None
    if isinstance(found, str):
        return found
    values = {v for k, v in vars(Provider).items() if k.isupper() and isinstance(v, str)}
    if text in values:
        return text
    raise ImproperlyConfigured(
        f"LIBCLOUD_PROVIDERS[{provider_name!r}]['type'] is {value!r}, which is not a libcloud "
        f"storage provider: use {PROVIDER_PREFIX}<NAME> (S3, AZURE_BLOBS, GOOGLE_STORAGE, "
        "LOCAL, MINIO...)."
    )


@dataclass(frozen=True)
class ProviderConfig:
    """One entry of ``LIBCLOUD_PROVIDERS``, checked (secrets kept out of ``repr``)."""

    name: str
    type: str
    bucket: str
    user: Any = field(repr=False, default=None)
    key: Any = field(repr=False, default=None)
    arguments: dict[str, Any] = field(repr=False, default_factory=dict)

    def build_driver(self) -> Any:
        """Create the driver (no request); a failure is ``ImproperlyConfigured``."""
        from libcloud.storage.providers import get_driver

        self._refuse_interactive_google_login()
        try:
            driver_class = get_driver(self.type)
            if self.key is None:
                driver = driver_class(self.user, **self.arguments)
            else:
                driver = driver_class(self.user, self.key, **self.arguments)
            _time_every_request(driver)
            return driver
        except Exception as exc:
            raise ImproperlyConfigured(
                f"Unable to create libcloud driver type {PROVIDER_PREFIX}"
                f"{self.type.upper()} for LIBCLOUD_PROVIDERS[{self.name!r}]: {exc}. " + CA_ADVICE
            ) from exc

    def _refuse_interactive_google_login(self) -> None:
        # libcloud guesses Google's authentication from the user: anything but an HMAC
        # key (GOOG...) or a service account asks the GCE metadata server, then starts
        # an interactive browser login that blocks the process. Never in a web server.
        if self.type != "google_storage" or "auth_type" in self.arguments:
            return
        user = str(self.user or "")
        if not user.startswith("GOOG") and not user.endswith(".gserviceaccount.com"):
            raise ImproperlyConfigured(
                f"LIBCLOUD_PROVIDERS[{self.name!r}]: for GOOGLE_STORAGE, 'user' must be an "
                "interoperability (HMAC) access key, starting with GOOG, with its secret as "
                "'key' (Cloud Storage settings > Interoperability), or a service account "
                "email with 'auth_type': 'SA'; libcloud would otherwise wait for an "
                "interactive browser login."
            )


def _time_every_request(driver: Any) -> None:
    """libcloud sends its streamed requests (every download) without the connection's
    timeout: a server that stalls mid-read held the read forever, whatever ``timeout``
    said. Its connections now give ``timeout`` (libcloud's default: 60 s) to those too."""
    from libcloud.http import LibcloudConnection

    connection: Any = getattr(driver, "connection", None)
    base = getattr(connection, "conn_class", None)
    if not (isinstance(base, type) and issubclass(base, LibcloudConnection)):
        return
    if not issubclass(base, _TimedConnection):
        connection.conn_class = type(f"Timed{base.__name__}", (_TimedConnection, base), {})
        connection.connect()  # the driver made its HTTP connection already: make it again


class _TimedConnection:
    """Mixed into a ``LibcloudConnection``: a send without a timeout gets the session's."""

    session: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send, timeout = self.session.send, self.session.timeout

        def timed_send(request: Any, **options: Any) -> Any:
            if options.get("timeout") is None:
                options["timeout"] = timeout
            return send(request, **options)

        self.session.send = timed_send


def provider_config(providers: Any, name: str) -> ProviderConfig:
    """Return the checked entry ``name`` of ``providers`` (``LIBCLOUD_PROVIDERS``)."""
    if not isinstance(providers, dict) or not providers:
        raise ImproperlyConfigured(
            "LIBCLOUD_PROVIDERS is not set: define at least one provider, e.g. "
            "{'default': {'type': 'libcloud.storage.types.Provider.S3', 'user': ..., "
            "'key': ..., 'bucket': ...}}."
        )
    entry = providers.get(name)
    if entry is None:
        raise ImproperlyConfigured(
            f"No libcloud provider named {name!r} in LIBCLOUD_PROVIDERS (it has "
            f"{', '.join(repr(k) for k in providers)}): fix DEFAULT_LIBCLOUD_PROVIDER "
            "(default 'default') or the name given to LibCloudStorage()."
        )
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"LIBCLOUD_PROVIDERS[{name!r}] must be a dict.")
    if not entry.get("bucket"):
        raise ImproperlyConfigured(
            f"LIBCLOUD_PROVIDERS[{name!r}] has no 'bucket': name the container to use."
        )
    return ProviderConfig(
        name=name,
        type=resolve_type(entry.get("type"), name),
        bucket=str(entry["bucket"]),
        user=entry.get("user"),
        key=entry.get("key"),
        arguments={k: v for k, v in entry.items() if k not in OWN_KEYS},
    )


class Drivers:
    """One driver per thread for one provider entry, and its container."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._lock = threading.Lock()
        self.created = 0  # drivers built so far (tests count them)

    @property
    def driver(self) -> Any:
        driver = getattr(self._local, "driver", None)
        if driver is None:
            driver = self._local.driver = self.config.build_driver()
            with self._lock:
                self.created += 1
        return driver

    def container(self) -> Any:
        """This thread's ``Container`` object, built locally (no request)."""
        from libcloud.storage.base import Container

        container = getattr(self._local, "container", None)
        if container is None:
            container = Container(name=self.config.bucket, extra={}, driver=self.driver)
            self._local.container = container
        return container

    def object(self, key: str, size: int = 0) -> Any:
        """An ``Object`` for ``key`` built locally: what download, delete and URL calls take."""
        from libcloud.storage.base import Object

        return Object(
            name=key,
            size=size,
            hash="",
            extra={},
            meta_data={},
            container=self.container(),
            driver=self.driver,
        )
