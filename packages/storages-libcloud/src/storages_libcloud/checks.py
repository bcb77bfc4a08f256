"""Libcloud's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app for every Libcloud backend in ``STORAGES``. The check
reads settings only (no network): the provider entry exists, its type is a libcloud
provider and it names a bucket. The diagnosis turns a failure met by ``storages_check``
into what to change in ``LIBCLOUD_PROVIDERS``.
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage

from storages_base.checks import (
    ConfiguredStorage,
    causes,
    register_diagnosis,
    register_storage_check,
)
from storages_base.errors import TransientError

from .client import provider_config
from .errors import ContainerMissingError
from .storage import LibCloudStorage

__all__ = ["check_libcloud_settings", "explain_libcloud_failure"]


@register_storage_check(LibCloudStorage)
def check_libcloud_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """The provider entry is there, of a known type, with a bucket."""
    try:
        provider_config(item.value("providers"), item.value("provider_name"))
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                f"{item.label}: {exc}",
                hint="Fix LIBCLOUD_PROVIDERS or DEFAULT_LIBCLOUD_PROVIDER (or the "
                f"provider_name option of STORAGES[{item.alias!r}]).",
                id="storages_libcloud.E001",
            )
        ]
    return []


@register_diagnosis(LibCloudStorage)
def explain_libcloud_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change: a container to create, credentials, or the server's address."""
    assert isinstance(storage, LibCloudStorage)
    entry = f"LIBCLOUD_PROVIDERS[{storage.config.name!r}]"
    for seen in causes(error):
        if isinstance(seen, ContainerMissingError):
            return (
                f"The container {storage.bucket!r} does not exist: create it once with "
                f"LibCloudStorage({storage.config.name!r}).driver.create_container("
                f"{storage.bucket!r}), or fix 'bucket' in {entry}."
            )
        if isinstance(seen, PermissionError):
            return (
                f"The provider refused to {step}: check 'user' and 'key' in {entry} and what "
                "these credentials may do on the container."
            )
        if isinstance(seen, TransientError):
            return (
                f"The provider could not be reached: check 'host', 'port', 'secure' and "
                f"'region' in {entry}, and that the server runs."
            )
    return None
