"""The Libcloud options table: django-storages' ``LIBCLOUD_PROVIDERS`` and
``DEFAULT_LIBCLOUD_PROVIDER``, plus the base options under ``LIBCLOUD_*`` names.

Declared once; resolution, the refusal of unknown options and the README settings
table all come from it.
"""

from __future__ import annotations

from storages_base import BASE_OPTIONS, Option

__all__ = ["LIBCLOUD_OPTIONS"]

LIBCLOUD_OPTIONS = BASE_OPTIONS.extend(
    Option(
        "providers",
        "LIBCLOUD_PROVIDERS",
        dict,
        "Named providers: `{name: {'type': 'libcloud.storage.types.Provider.S3', 'user': ..., "
        "'key': ..., 'bucket': ..., **driver_arguments}}` (`region`, `host`, `port`, "
        "`secure`...).",
        secret=True,
        doc_default="`{}`",
    ),
    Option(
        "provider_name",
        "DEFAULT_LIBCLOUD_PROVIDER",
        "default",
        "Which entry of `providers` this storage uses (also the first positional argument: "
        "`LibCloudStorage('amazon_1')`).",
    ),
    Option("location", "LIBCLOUD_LOCATION", "", "Prefix under which every name is stored."),
    Option(
        "file_overwrite",
        "LIBCLOUD_FILE_OVERWRITE",
        False,
        "Save over an existing file of the same name (False, as django-storages' Libcloud "
        "backend does: pick a free name; checked just before the write, not atomic).",
    ),
    Option(
        "base_url",
        "LIBCLOUD_BASE_URL",
        None,
        "Where files are published when the driver has no URL of its own (LOCAL, MinIO, "
        "RGW...): `url()` joins the name under it; unset uses `MEDIA_URL` for LOCAL.",
    ),
    Option(
        "url_expire",
        "LIBCLOUD_URL_EXPIRE",
        86400,
        "Seconds a signed URL (S3 presigned, Azure SAS) stays valid; `url(name, expire=...)` "
        "sets it per call.",
    ),
    Option(
        "max_memory_size",
        "LIBCLOUD_MAX_MEMORY_SIZE",
        2 * 1024 * 1024,
        "Bytes a file being written keeps in memory before it spills to a temporary file "
        "in `FILE_UPLOAD_TEMP_DIR`.",
        doc_default="`2097152` (2 MiB)",
    ),
)
