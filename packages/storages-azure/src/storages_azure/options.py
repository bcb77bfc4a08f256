"""The Azure options table: django-storages' option names, ``AZURE_*`` settings and defaults.

Declared once; resolution, the refusal of unknown options and the README settings table
all come from it. Authentication, first found wins: ``connection_string``, then
``account_key``, then ``sas_token``, then ``token_credential`` (django-storages' order).
"""

from __future__ import annotations

from storages_base import BASE_OPTIONS, GZIP_OPTIONS, Option
from storages_base.content import DEFAULT_CONTENT_TYPE
from storages_base.options import AT_FIRST_USE

__all__ = ["AZURE_OPTIONS", "EMULATOR_ACCOUNT", "EMULATOR_HOST"]

#: Azurite's account and address when ``emulated_mode`` is on and nothing else is given.
EMULATOR_ACCOUNT = "devstoreaccount1"
EMULATOR_HOST = "127.0.0.1:10000"

AZURE_OPTIONS = BASE_OPTIONS.extend(
    # -- credentials ----------------------------------------------------------------------
    Option(
        "account_name",
        "AZURE_ACCOUNT_NAME",
        None,
        "Storage account name (the first label of `<account>.blob.core.windows.net`); "
        "taken from the connection string when unset.",
    ),
    Option(
        "account_key",
        "AZURE_ACCOUNT_KEY",
        None,
        "Account key: signs requests and SAS URLs.",
        secret=True,
    ),
    Option(
        "connection_string",
        "AZURE_CONNECTION_STRING",
        None,
        "Connection string; wins over every other credential and endpoint option.",
        secret=True,
    ),
    Option(
        "custom_connection_string",
        "AZURE_CUSTOM_CONNECTION_STRING",
        None,
        "Connection string used for URLs only (a CDN or custom domain as `BlobEndpoint`); "
        "defaults to `connection_string`.",
        secret=True,
    ),
    Option(
        "sas_token",
        "AZURE_SAS_TOKEN",
        None,
        "A SAS token granting this storage its access. A token cannot sign SAS URLs of its "
        "own: URLs are then plain (a public container; `url(expire=...)` says what to set) "
        "and the token never appears in them.",
        secret=True,
    ),
    Option(
        "token_credential",
        "AZURE_TOKEN_CREDENTIAL",
        None,
        "A token credential (`DefaultAzureCredential()`...): requests carry its tokens, "
        "SAS URLs are user-delegation SAS (one key request per key lifetime).",
    ),
    # -- where files go -------------------------------------------------------------------
    Option(
        "azure_container",
        "AZURE_CONTAINER",
        None,
        "The container (required: the first operation without it raises, and the system "
        "check reports it; it must exist, it is never created).",
        required=AT_FIRST_USE,
    ),
    Option("location", "AZURE_LOCATION", "", "Prefix under which every name is stored."),
    Option(
        "overwrite_files",
        "AZURE_OVERWRITE_FILES",
        False,
        "Save over an existing blob of the same name; False picks a free name atomically "
        "(a create-only write, `If-None-Match: *`).",
    ),
    Option(
        "file_overwrite",
        None,
        None,
        "The same as `overwrite_files`, by the name every storages backend uses; wins when set.",
        doc_default="`overwrite_files`",
    ),
    Option(
        "object_parameters",
        "AZURE_OBJECT_PARAMETERS",
        dict,
        "Content settings of every blob (`content_type`, `content_encoding`, "
        "`content_language`, `content_disposition`, `cache_control`) and `metadata`; "
        "per file: override `get_object_parameters(name)`.",
        doc_default="`{}`",
    ),
    Option(
        "cache_control",
        "AZURE_CACHE_CONTROL",
        None,
        "Cache-Control of every blob (unless `object_parameters` sets `cache_control`).",
    ),
    # -- URLs -----------------------------------------------------------------------------
    Option(
        "expiration_secs",
        "AZURE_URL_EXPIRATION_SECS",
        None,
        "Seconds a SAS URL stays valid; None gives unsigned URLs (a public container).",
    ),
    Option(
        "url_reuse_window",
        "AZURE_URL_REUSE_WINDOW",
        None,
        "Seconds during which `url()` of a name returns the same SAS URL, so browsers and "
        "CDNs can cache the file; 0: a new URL every call.",
        doc_default="a quarter of `expiration_secs`, at most `900`",
    ),
    Option(
        "custom_domain",
        "AZURE_CUSTOM_DOMAIN",
        None,
        "Host (or `host:port` in emulated mode) of the URLs instead of the account's "
        "(e.g. `mycdn.azureedge.net`); requests still go to the account.",
    ),
    # -- the connection -------------------------------------------------------------------
    Option("azure_ssl", "AZURE_SSL", True, "Use HTTPS (False: HTTP)."),
    Option(
        "endpoint_suffix",
        "AZURE_ENDPOINT_SUFFIX",
        "core.windows.net",
        "Host of the service after the account name (`core.chinacloudapi.cn`...).",
    ),
    Option(
        "emulated_mode",
        "AZURE_EMULATED_MODE",
        False,
        "Talk to the emulator (Azurite): `http(s)://<custom_domain or 127.0.0.1:10000>/"
        "<account>`, with Azurite's development account when none is given.",
    ),
    Option(
        "upload_max_conn",
        "AZURE_UPLOAD_MAX_CONN",
        2,
        "Blocks of one large file uploaded at once.",
    ),
    Option(
        "timeout",
        "AZURE_CONNECTION_TIMEOUT_SECS",
        20,
        "Seconds to wait for the service to connect and answer.",
    ),
    Option(
        "max_memory_size",
        "AZURE_BLOB_MAX_MEMORY_SIZE",
        2 * 1024 * 1024,
        "Bytes a file being written or updated keeps in memory before it spills to a "
        "temporary file in `FILE_UPLOAD_TEMP_DIR`.",
        doc_default="`2097152` (2 MiB)",
    ),
    Option(
        "client_options",
        "AZURE_CLIENT_OPTIONS",
        dict,
        "Keyword arguments of `BlobServiceClient` (`retry_total`, `max_block_size`...).",
        doc_default="`{}`",
    ),
    Option(
        "api_version",
        "AZURE_API_VERSION",
        None,
        "Storage API version (deprecated by django-storages in favour of `client_options`).",
    ),
    # -- content --------------------------------------------------------------------------
    Option("gzip", "AZURE_GZIP", False, "Gzip files whose type is in `gzip_content_types`."),
    GZIP_OPTIONS[1],
    Option(
        "default_content_type",
        None,
        DEFAULT_CONTENT_TYPE,
        "Content type when none is given or guessed.",
    ),
)
