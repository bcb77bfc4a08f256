"""The S3 options table: django-storages' option names, ``AWS_*`` settings and defaults.

Declared once; resolution, the refusal of unknown options and the README settings
table all come from it. Credentials fall back to the ``AWS_*`` environment variables
and, when nothing is configured, to boto3's own chain (profiles, IRSA, instance roles),
whose temporary credentials refresh themselves.
"""

from __future__ import annotations

import inspect
from typing import Any

from storages_base import AT_FIRST_USE, BASE_OPTIONS, GZIP_OPTIONS, Option
from storages_base.content import DEFAULT_CONTENT_TYPE

__all__ = ["DEFAULT_FILE_BUFFER_SIZE", "REBUILT_IN_MIGRATIONS", "S3_OPTIONS"]

#: Multipart part size (S3's minimum part size is 5 MiB).
DEFAULT_FILE_BUFFER_SIZE = 5 * 1024 * 1024

S3_OPTIONS = BASE_OPTIONS.extend(
    # -- credentials ----------------------------------------------------------------------
    Option(
        "access_key",
        ("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        None,
        "Access key id; unset uses boto3's credential chain (profile, IRSA, instance role).",
        env=("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        secret=True,
        doc_default="— (boto3 chain)",
    ),
    Option(
        "secret_key",
        ("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        None,
        "Secret access key, with `access_key`.",
        env=("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        secret=True,
    ),
    Option(
        "security_token",
        ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
        None,
        "Session token of temporary credentials given as keys.",
        env=("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
        secret=True,
    ),
    Option(
        "session_profile",
        "AWS_S3_SESSION_PROFILE",
        None,
        "Named profile of `~/.aws/config` (not together with keys).",
        env=("AWS_S3_SESSION_PROFILE",),
    ),
    # -- where files go -------------------------------------------------------------------
    Option(
        "bucket_name",
        "AWS_STORAGE_BUCKET_NAME",
        None,
        "The bucket (required: the first operation without it raises, and the system "
        "check reports it; the storage itself builds, as a model module needs).",
        required=AT_FIRST_USE,
    ),
    Option("location", "AWS_LOCATION", "", "Prefix under which every name is stored."),
    Option(
        "file_overwrite",
        "AWS_S3_FILE_OVERWRITE",
        True,
        "Save over an existing file of the same name; False picks a free name atomically "
        "(`If-None-Match: *`).",
    ),
    Option(
        "conditional_writes",
        "AWS_S3_CONDITIONAL_WRITES",
        None,
        "Whether the server honours `If-None-Match: *` (a no-overwrite save is then one "
        "conditional write). Unset: True on Amazon S3, False on other endpoints, where each "
        "no-overwrite save first confirms the name is free with a HEAD. Set True for a "
        "service known to honour it (README: Conditional writes).",
        doc_default="— (True on AWS only)",
    ),
    Option(
        "conditional_writes",
        "AWS_S3_CONDITIONAL_WRITES",
        None,
        "Whether the server honours `If-None-Match: *` (a no-overwrite save is then one "
        "conditional write). Unset: True on Amazon S3, False on other endpoints, where each "
        "no-overwrite save first confirms the name is free with a HEAD. Set True for a "
        "service known to honour it (README: Conditional writes).",
        doc_default="— (True on AWS only)",
    ),
    Option(
        "object_parameters",
        "AWS_S3_OBJECT_PARAMETERS",
        dict,
        "PutObject parameters for every file (CacheControl, ACL, StorageClass, SSE*, "
        "Metadata, ContentDisposition...); per file: override `get_object_parameters(name)`.",
        doc_default="`{}`",
    ),
    Option(
        "default_acl",
        "AWS_DEFAULT_ACL",
        None,
        "Canned ACL of new files (ignored when `object_parameters` has `ACL`); unset "
        "inherits the bucket's.",
    ),
    # -- URLs -----------------------------------------------------------------------------
    Option("querystring_auth", "AWS_QUERYSTRING_AUTH", True, "`url()` returns presigned URLs."),
    Option("querystring_expire", "AWS_QUERYSTRING_EXPIRE", 3600, "Seconds a URL stays valid."),
    Option(
        "url_reuse_window",
        "AWS_QUERYSTRING_REUSE_WINDOW",
        None,
        "Seconds during which `url()` of a name returns the same signed URL (presigned or "
        "CloudFront), so browsers and CDNs can cache the file; 0: a new URL every call.",
        doc_default="a quarter of `querystring_expire`, at most `900`",
    ),
    Option(
        "signature_version",
        "AWS_S3_SIGNATURE_VERSION",
        None,
        "Signature version (`s3v4`; `s3` for legacy SigV2).",
        doc_default="— (s3v4)",
    ),
    Option(
        "addressing_style",
        "AWS_S3_ADDRESSING_STYLE",
        None,
        "`virtual` or `path` bucket addressing.",
    ),
    Option(
        "custom_domain",
        "AWS_S3_CUSTOM_DOMAIN",
        None,
        "Domain (e.g. a CloudFront distribution) used in URLs instead of S3's; no trailing /.",
    ),
    Option("url_protocol", "AWS_S3_URL_PROTOCOL", "https:", "Scheme of custom-domain URLs."),
    Option(
        "cloudfront_key_id",
        "AWS_CLOUDFRONT_KEY_ID",
        None,
        "CloudFront public key id; with `cloudfront_key`, custom-domain URLs are signed "
        "(one without the other is refused at construction).",
        together=("cloudfront_key",),
    ),
    Option(
        "cloudfront_key",
        "AWS_CLOUDFRONT_KEY",
        None,
        "CloudFront private key (PEM bytes).",
        secret=True,
        together=("cloudfront_key_id",),
    ),
    Option(
        "cloudfront_signer",
        None,
        None,
        "A callable signing CloudFront URLs (constructor or class attribute only); "
        "derived from the key pair when unset.",
        doc_default="— (from the key pair)",
    ),
    # -- the connection -------------------------------------------------------------------
    Option(
        "endpoint_url",
        "AWS_S3_ENDPOINT_URL",
        None,
        "Endpoint of an S3-compatible service (set `region_name` too). A non-AWS endpoint "
        "turns boto3's optional checksums to `when_required`.",
    ),
    Option("region_name", "AWS_S3_REGION_NAME", None, "Region of the bucket."),
    Option("use_ssl", "AWS_S3_USE_SSL", True, "Use HTTPS to talk to S3."),
    Option(
        "verify",
        "AWS_S3_VERIFY",
        None,
        "TLS verification: False, or a CA bundle path; unset uses boto3's default.",
    ),
    Option(
        "proxies",
        "AWS_S3_PROXIES",
        None,
        "Proxies by scheme or endpoint, e.g. `{'https': 'proxy:3128'}`.",
    ),
    Option(
        "client_config",
        "AWS_S3_CLIENT_CONFIG",
        None,
        "A `botocore.config.Config`; it replaces `addressing_style`, `signature_version` "
        "and `proxies`.",
    ),
    Option(
        "transfer_config",
        "AWS_S3_TRANSFER_CONFIG",
        None,
        "A `boto3.s3.transfer.TransferConfig`: its `multipart_chunksize` (part size), "
        "`max_concurrency` (parts in flight) and `use_threads` shape large uploads.",
    ),
    Option(
        "use_threads",
        "AWS_S3_USE_THREADS",
        True,
        "Upload parts of a large file at once from threads: 4 of a stream, 10 of a file on "
        "disk (False: one at a time, as gevent needs).",
    ),
    # -- content --------------------------------------------------------------------------
    Option("gzip", "AWS_IS_GZIPPED", False, "Gzip files whose type is in `gzip_content_types`."),
    GZIP_OPTIONS[1],
    Option(
        "max_memory_size",
        "AWS_S3_MAX_MEMORY_SIZE",
        0,
        "Bytes a file opened for update keeps in memory before spilling to "
        "`FILE_UPLOAD_TEMP_DIR` (0: the 2 MiB default).",
    ),
    Option(
        "file_buffer_size",
        "AWS_S3_FILE_BUFFER_SIZE",
        DEFAULT_FILE_BUFFER_SIZE,
        "Part size of streamed uploads; files up to this size are saved in one request.",
        doc_default="`5242880` (5 MiB)",
    ),
    Option(
        "default_content_type",
        None,
        DEFAULT_CONTENT_TYPE,
        "Content type when none is given or guessed.",
    ),
    Option(
        "file_name_charset",
        "AWS_S3_FILE_NAME_CHARSET",
        "utf-8",
        "Accepted for compatibility; names are always UTF-8.",
    ),
)


def _rebuild_config(config: Any) -> tuple[str, dict[str, Any]]:
    """botocore's ``Config`` from the options its user gave (botocore keeps them apart)."""
    return "botocore.config.Config", dict(config._user_provided_options)


def _rebuild_transfer_config(config: Any) -> tuple[str, dict[str, Any]]:
    """boto3's ``TransferConfig`` from its arguments that differ from the defaults."""
    from boto3.s3.transfer import TransferConfig

    default = TransferConfig()
    names = [n for n in inspect.signature(TransferConfig.__init__).parameters if n != "self"]
    return "boto3.s3.transfer.TransferConfig", {
        n: getattr(config, n) for n in names if getattr(config, n) != getattr(default, n)
    }


#: ``client_config`` and ``transfer_config`` in a migration (``FileField(storage=...)``).
REBUILT_IN_MIGRATIONS = {
    "botocore.config.Config": _rebuild_config,
    "boto3.s3.transfer.TransferConfig": _rebuild_transfer_config,
}
