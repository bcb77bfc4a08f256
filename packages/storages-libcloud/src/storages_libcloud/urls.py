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

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

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
        seconds = expire if expire is not None else storage.url_expire
        if _is_azure(driver):
            return azure_sas_url(driver, drivers.config.bucket, key, seconds)
        return str(driver.get_object_cdn_url(drivers.object(key), ex_expiry=seconds / 3600))
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


def _is_azure(driver: Any) -> bool:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    return isinstance(driver, AzureBlobsStorageDriver)


def azure_sas_url(driver: Any, bucket: str, key: str, seconds: int) -> str:
    """A read-only service SAS URL for ``key``, signed with the driver's account key.

    Not libcloud's ``get_object_cdn_url``: it signs the percent-encoded path, which
    Azure refuses (403) for any name with a space or a non-ASCII character; the string
    to sign holds the name as it is, the URL its encoded form. Same SAS version and
    fields as libcloud's, so a URL of a plain name is the one libcloud would give.
    """
    now = datetime.now(timezone.utc).replace(microsecond=0)
    fields = {
        "st": _sas_time(now - timedelta(minutes=5)),  # allow for clock skew
        "se": _sas_time(now + timedelta(seconds=seconds)),
        "sp": "r",
        "spr": "https" if driver.secure else "http,https",
        "sv": driver.connectionCls.API_VERSION,
        "sr": "b",
    }
    resource = f"/blob/{driver.key}/{bucket}/{key}"
    # sp, st, se, resource, identifier, IP, spr, sv, sr, snapshot, five rsc* overrides.
    order = [fields["sp"], fields["st"], fields["se"], resource, "", ""]
    to_sign = "\n".join([*order, fields["spr"], fields["sv"], fields["sr"], *[""] * 6])
    signature = hmac.new(driver.secret, to_sign.encode("utf-8"), hashlib.sha256).digest()
    fields["sig"] = base64.b64encode(signature).decode("ascii")
    connection = driver.connection
    path = connection.morph_action_hook(f"/{quote(bucket)}/{quote(key, safe='/~')}")
    scheme = "https" if driver.secure else "http"
    return f"{scheme}://{connection.host}:{connection.port}{path}?{urlencode(fields)}"


def _sas_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


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
