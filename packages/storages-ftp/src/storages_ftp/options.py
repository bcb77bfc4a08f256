"""The options of :class:`~storages_ftp.FTPStorage`, with django-storages' setting names."""

from __future__ import annotations

from django.conf import settings

from storages_base.options import Option, Options
from storages_base.storage import BASE_OPTIONS

__all__ = ["FTP_OPTIONS"]

FTP_OPTIONS = Options(
    Option(
        "location",
        "FTP_STORAGE_LOCATION",
        None,
        "Server URL `ftp://user:password@host:port/path` (`ftps://`: explicit TLS with a "
        "protected data channel; `aftp://`: active mode). Port defaults to 21; quote special "
        "characters of the password (`urllib.parse.quote(password, safe='')`). The path is the "
        "root folder of every name; without one, the login folder.",
        secret=True,
        doc_default="— (required)",
    ),
    Option(
        "base_url",
        "BASE_URL",
        lambda: settings.MEDIA_URL,
        "URL prefix of `url()`: where a web server publishes the same folder.",
        doc_default="`MEDIA_URL`",
    ),
    Option(
        "encoding",
        "FTP_STORAGE_ENCODING",
        "latin-1",
        "Encoding of file names on the wire. Most current servers use `utf-8` (names outside "
        "Latin-1 need it).",
    ),
    Option(
        "allow_overwrite",
        "FTP_ALLOW_OVERWRITE",
        False,
        "Save over an existing file of the same name; False picks a free name instead.",
    ),
    Option(
        "file_overwrite",
        None,
        None,
        "The same as `allow_overwrite`, by the name every storages backend uses; wins when set.",
        doc_default="`allow_overwrite`",
    ),
    BASE_OPTIONS["max_memory_size"],
    Option(
        "timeout",
        "FTP_STORAGE_TIMEOUT",
        30.0,
        "Seconds to wait for the server on any socket operation (connect, reply, data).",
    ),
    Option(
        "retries",
        "FTP_STORAGE_RETRIES",
        2,
        "How many times an operation is retried on a new session after a dropped connection "
        "or a 4xx reply, before a `TransientError`.",
    ),
    Option(
        "pool_size",
        "FTP_STORAGE_POOL_SIZE",
        4,
        "Idle sessions kept open for reuse (each thread or open file uses its own session).",
    ),
    Option(
        "ca_file",
        "FTP_STORAGE_CA_FILE",
        None,
        "PEM file of the CA certificates trusted for `ftps://` (default: the system's). For "
        "anything else, override the storage's `ssl_context()` method.",
    ),
)
