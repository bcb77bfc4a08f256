"""``url()`` for every driver, without a request.

In order: the driver's own URL where libcloud builds it locally (S3: a presigned V4
URL; Azure Blobs: a SAS), else ``base_url`` (LOCAL defaults to ``MEDIA_URL``: the
demo serves those files through a Django view), else the provider's public address
(an S3-compatible server's path-style URL, ``storage.googleapis.com``), else a
``ValueError`` naming ``LIBCLOUD_BASE_URL``. libcloud's ``get_object_cdn_url`` of the
other drivers makes requests (CloudFiles) or returns a local path (LOCAL), so it is
never called for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings

from storages_base.urls import published_url

if TYPE_CHECKING:
    from .storage import LibCloudStorage

__all__ = ["object_url", "signs_urls"]


def signs_urls(driver: Any) -> bool:
    """Whether libcloud signs a URL for ``driver`` locally (S3 on AWS, Azure shared key)."""
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
    from libcloud.storage.drivers.s3 import S3StorageDriver

    if isinstance(driver, AzureBlobsStorageDriver):
        return getattr(driver, "_auth_type", None) != "azureAd"
    # MinIO and RGW subclass the S3 driver but raise NotImplementedError.
    return isinstance(driver, S3StorageDriver) and type(driver).get_object_cdn_url is (
        S3StorageDriver.get_object_cdn_url
    )


def object_url(storage: LibCloudStorage, key: str, expire: int | None) -> str:
    """Return the URL of ``key`` (see the module docstring for the order)."""
    drivers = storage.drivers
    driver = drivers.driver
    if signs_urls(driver):
        hours = (expire if expire is not None else storage.url_expire) / 3600
        return str(driver.get_object_cdn_url(drivers.object(key), ex_expiry=hours))
    base_url = storage.base_url
    if base_url is None and drivers.config.type == "local":
        base_url = settings.MEDIA_URL
    if base_url is not None:
        return published_url(base_url, key, setting="LIBCLOUD_BASE_URL")
    public = _public_address(driver, drivers.config.bucket)
    if public is None:
        raise ValueError(
            f"libcloud's {type(driver).__name__} builds no URL without a request: set "
            "LIBCLOUD_BASE_URL (or the base_url option) to where the files are published."
        )
    return public + quote(key, safe="/~")


def _public_address(driver: Any, bucket: str) -> str | None:
    from libcloud.storage.drivers.google_storage import GoogleStorageDriver
    from libcloud.storage.drivers.s3 import BaseS3StorageDriver

    if isinstance(driver, GoogleStorageDriver):
        return f"https://storage.googleapis.com/{quote(bucket)}/"
    if isinstance(driver, BaseS3StorageDriver):
        connection = driver.connection
        scheme = "https" if driver.secure else "http"
        default_port = 443 if driver.secure else 80
        port = f":{connection.port}" if int(connection.port) != default_port else ""
        return f"{scheme}://{connection.host}{port}/{quote(bucket)}/"
    return None
