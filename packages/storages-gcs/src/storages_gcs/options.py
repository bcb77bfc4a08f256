"""The GCS options table: django-storages' option names, ``GS_*`` settings and defaults.

Declared once; resolution, the refusal of unknown options and the README settings
table all come from it. Credentials fall back to Google's Application Default
Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, the metadata server of Cloud Run/GKE).
"""

from __future__ import annotations

from datetime import timedelta

from storages_base import AT_FIRST_USE, BASE_OPTIONS, GZIP_OPTIONS, Option
from storages_base.content import DEFAULT_CONTENT_TYPE

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_FILE_CHUNK_SIZE", "GCS_OPTIONS", "RESUMABLE_ALIGNMENT"]

#: GCS takes the chunks of a resumable upload in multiples of 256 KiB (but the last).
RESUMABLE_ALIGNMENT = 256 * 1024
#: Chunk size of resumable uploads when ``blob_chunk_size`` is unset (files up to this
#: size are sent in one request).
DEFAULT_CHUNK_SIZE = 32 * RESUMABLE_ALIGNMENT  # 8 MiB
#: Chunk size of a file on disk when ``blob_chunk_size`` is unset: its chunks are read
#: where they lie as they are sent (no memory), so fewer, larger requests cost nothing.
DEFAULT_FILE_CHUNK_SIZE = 256 * RESUMABLE_ALIGNMENT  # 64 MiB

GCS_OPTIONS = BASE_OPTIONS.extend(
    # -- credentials ----------------------------------------------------------------------
    Option(
        "credentials",
        "GS_CREDENTIALS",
        None,
        "A `google.auth` credentials object (e.g. `service_account.Credentials."
        "from_service_account_file(...)`); unset uses Application Default Credentials.",
        secret=True,
        doc_default="— (ADC)",
    ),
    Option(
        "project_id",
        "GS_PROJECT_ID",
        None,
        "Project of the client; unset infers it from the credentials or environment.",
    ),
    # -- where files go -------------------------------------------------------------------
    Option(
        "bucket_name",
        "GS_BUCKET_NAME",
        None,
        "The bucket (required: the first operation without it raises, and the system "
        "check reports it; the storage itself builds, as a model module needs).",
        required=AT_FIRST_USE,
    ),
    Option("location", "GS_LOCATION", "", "Prefix under which every name is stored."),
    Option(
        "file_overwrite",
        "GS_FILE_OVERWRITE",
        True,
        "Save over an existing file of the same name; False picks a free name atomically "
        "(`ifGenerationMatch=0`).",
    ),
    Option(
        "object_parameters",
        "GS_OBJECT_PARAMETERS",
        dict,
        "Blob properties for every file (`cache_control`, `content_disposition`, "
        "`content_language`, `metadata`, `storage_class`, `acl`...); per file: override "
        "`get_object_parameters(name)`.",
        doc_default="`{}`",
    ),
    Option(
        "cache_control",
        "GS_CACHE_CONTROL",
        None,
        "`Cache-Control` of new files (documented by django-storages, ignored by 1.14.6; "
        "`object_parameters['cache_control']` wins).",
    ),
    Option(
        "default_acl",
        "GS_DEFAULT_ACL",
        None,
        "Predefined ACL of new files (`publicRead` gives public URLs); unset inherits the "
        "bucket's. Uniform bucket-level access refuses it (HTTP 400).",
    ),
    # -- URLs -----------------------------------------------------------------------------
    Option(
        "querystring_auth",
        "GS_QUERYSTRING_AUTH",
        True,
        "`url()` returns V4 signed URLs (False: public URLs, no signature).",
    ),
    Option(
        "expiration",
        "GS_EXPIRATION",
        timedelta(seconds=86400),
        "Lifetime of signed URLs: a timedelta, a datetime, or seconds (at most 7 days).",
        doc_default="`timedelta(seconds=86400)`",
    ),
    Option(
        "url_reuse_window",
        "GS_QUERYSTRING_REUSE_WINDOW",
        None,
        "Seconds during which `url()` of a name returns the same signed URL, so browsers "
        "and CDNs can cache the file; 0: a new URL every call.",
        doc_default="a quarter of `expiration`, at most `900`",
    ),
    Option(
        "custom_endpoint",
        "GS_CUSTOM_ENDPOINT",
        None,
        "Base URL of file URLs instead of `https://storage.googleapis.com/<bucket>` "
        "(a CDN or a bucket-bound domain, e.g. `https://cdn.example.com`).",
    ),
    Option(
        "iam_sign_blob",
        "GS_IAM_SIGN_BLOB",
        False,
        "Sign URLs through the IAM signBlob API (Cloud Run, GKE: no private key); one "
        "remote call per new URL, reused within `url_reuse_window`.",
    ),
    Option(
        "sa_email",
        "GS_SA_EMAIL",
        None,
        "Service account that signs with `iam_sign_blob` (default: the credentials' own).",
    ),
    Option(
        "iam_endpoint",
        "GS_IAM_ENDPOINT",
        "https://iamcredentials.googleapis.com",
        "Base URL of the IAM credentials API that `iam_sign_blob` calls.",
    ),
    # -- the connection -------------------------------------------------------------------
    Option(
        "api_endpoint",
        "GS_API_ENDPOINT",
        None,
        "JSON API endpoint (a local emulator, a private endpoint); `STORAGE_EMULATOR_HOST` "
        "also works and then needs no credentials.",
    ),
    Option(
        "timeout",
        "GS_TIMEOUT",
        60,
        "Seconds to wait for GCS to connect and to answer (each read of a download too); "
        "the SDK's own requests had 60, the storage's downloads and chunks 120.",
    ),
    # -- content --------------------------------------------------------------------------
    Option("gzip", "GS_IS_GZIPPED", False, "Gzip files whose type is in `gzip_content_types`."),
    GZIP_OPTIONS[1],
    Option(
        "max_memory_size",
        "GS_MAX_MEMORY_SIZE",
        0,
        "Bytes a file opened for update keeps in memory before spilling to "
        "`FILE_UPLOAD_TEMP_DIR` (0: the 2 MiB default).",
    ),
    Option(
        "blob_chunk_size",
        "GS_BLOB_CHUNK_SIZE",
        None,
        "Chunk size of resumable uploads, a multiple of 256 KiB; larger files are sent in "
        "chunks of this size with bounded memory (unset: 8 MiB, 64 MiB for a file on disk, "
        "read where it lies).",
        doc_default="— (8 MiB)",
    ),
    Option(
        "default_content_type",
        None,
        DEFAULT_CONTENT_TYPE,
        "Content type when none is given or guessed.",
    ),
    Option(
        "file_name_charset",
        "GS_FILE_CHARSET",
        "utf-8",
        "Accepted for compatibility; names are always UTF-8.",
    ),
)
