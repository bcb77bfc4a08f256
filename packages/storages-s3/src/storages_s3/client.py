"""Building the boto3 session and client from a storage's options.

One client per storage, shared by every thread (botocore clients are thread-safe;
boto3 resources are not, so none is used). Credentials are passed to the session
only when the user configured them; otherwise boto3's own chain finds them, and the
temporary credentials of an assumed role or IRSA keep refreshing.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:  # boto3 is imported on the first request, not with the settings
    import boto3
    import botocore.session
    from botocore.config import Config
    from botocore.loaders import Loader
    from mypy_boto3_s3 import S3Client, S3ServiceResource

    from .storage import S3Storage

__all__ = [
    "build_client",
    "build_resource",
    "build_session",
    "client_config",
    "is_aws_endpoint",
    "parse_timestamp",
]

_LOADER: Loader | None = None
_LOADER_LOCK = threading.Lock()
_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
# Environment variables boto3 reads itself: a value found only there is left to boto3,
# which then also refreshes it, instead of being frozen into the session.
_BOTO_ENV = {
    "access_key": "AWS_ACCESS_KEY_ID",
    "secret_key": "AWS_SECRET_ACCESS_KEY",
    "security_token": "AWS_SESSION_TOKEN",
}


def build_session(storage: S3Storage) -> boto3.Session:
    """Return the storage's session: explicit keys or profile, else boto3's chain."""
    kwargs: dict[str, Any] = {}
    if storage.session_profile:
        kwargs["profile_name"] = storage.session_profile
    explicit = {name: value for name in _BOTO_ENV if (value := _explicit(storage, name))}
    if "access_key" in explicit or "secret_key" in explicit:
        kwargs["aws_access_key_id"] = storage.access_key
        kwargs["aws_secret_access_key"] = storage.secret_key
        kwargs["aws_session_token"] = storage.security_token
    import boto3

    return boto3.Session(botocore_session=_botocore_session(), **kwargs)


def _botocore_session() -> botocore.session.Session:
    """A new botocore session sharing one process-wide loader of the service models.

    Each storage has its own session (credentials and profile are per storage), but
    reading and parsing S3's JSON model is the same work for all: shared, building a
    storage's client costs ~25 ms instead of ~95 ms (the seed's views build one per
    request).
    """
    import botocore.session
    from botocore.loaders import create_loader

    from .sdk import S3ResponseParsers  # imports botocore: not with the backend module

    global _LOADER
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = create_loader()
        loader = _LOADER
    session = botocore.session.Session()
    session.register_component("data_loader", loader)
    parsers = S3ResponseParsers()
    parsers.set_parser_defaults(timestamp_parser=parse_timestamp)
    session.register_component("response_parser_factory", parsers)
    return session


_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_UTC: Any = None  # dateutil's tzutc(), what botocore's parser returns (imported with botocore)


def parse_timestamp(value: Any) -> datetime:
    """botocore's response timestamp parser, without dateutil for the two forms S3 sends.

    botocore parses every timestamp of a response with ``dateutil`` (30-45 us each): the
    ``Last-Modified`` header of every HEAD and GET, and each ``LastModified`` of a listing
    (200 of them per ``listdir`` of 200 files). The HTTP date of a header
    (``Sat, 05 Dec 2026 02:31:31 GMT``) and the ISO 8601 UTC time of an XML body
    (``2026-12-05T02:31:31.000Z``) are read here in about 1 us, to the same value and
    ``tzinfo``; any other form goes to botocore's own parser.
    """
    global _UTC
    if _UTC is None:
        from dateutil.tz import tzutc

        _UTC = tzutc()
    if type(value) is str:
        try:
            if len(value) == 29 and value[3:5] == ", " and value[25:] == " GMT":
                if value[7] + value[11] + value[16] + value[19] + value[22] == "   ::":
                    return datetime(
                        int(value[12:16]),
                        _MONTHS[value[8:11]],
                        int(value[5:7]),
                        int(value[17:19]),
                        int(value[20:22]),
                        int(value[23:25]),
                        tzinfo=_UTC,
                    )
            elif value[-1:] == "Z" and value[10:11] == "T":
                parsed = datetime.fromisoformat(value[:-1])
                if parsed.tzinfo is None:
                    return parsed.replace(tzinfo=_UTC)
        except (KeyError, ValueError):
            pass  # not what it looked like: botocore decides
    from botocore.utils import parse_timestamp as botocore_parse_timestamp

    return botocore_parse_timestamp(value)


def _explicit(storage: S3Storage, name: str) -> str | None:
    """Return the option's value unless it merely repeats boto3's own env variable."""
    value = getattr(storage, name)
    if not value:
        return None
    if value == os.environ.get(_BOTO_ENV[name]) and not _configured(storage, name):
        return None
    return str(value)


def _configured(storage: S3Storage, name: str) -> bool:
    """Whether OPTIONS, a class attribute or a Django setting gave the option."""
    if name in storage._init_kwargs or hasattr(type(storage), name):
        return True
    return any(hasattr(settings, setting) for setting in storage.options[name].settings)


def client_config(storage: S3Storage) -> Config:
    """Return the botocore Config: the user's, or one from the separate options.

    S3-compatible services (MinIO, R2, B2, Spaces...) reject the optional integrity
    checksums boto3 >= 1.36 sends by default, so a non-AWS endpoint asks for them only
    when an operation requires them, unless the user's config or environment decides.
    """
    from botocore.config import Config

    config: Config | None = storage.client_config
    if config is None:
        s3: Any = (
            {"addressing_style": storage.addressing_style} if storage.addressing_style else None
        )
        config = Config(
            s3=s3,
            signature_version=storage.signature_version,
            proxies=storage.proxies,
        )
    if not is_aws_endpoint(storage.endpoint_url):
        config = _when_required(config)
    return config


def _when_required(config: Config) -> Config:
    from botocore.config import Config

    extra: dict[str, Any] = {}
    for option, env in (
        ("request_checksum_calculation", "AWS_REQUEST_CHECKSUM_CALCULATION"),
        ("response_checksum_validation", "AWS_RESPONSE_CHECKSUM_VALIDATION"),
    ):
        if getattr(config, option, None) is None and not os.environ.get(env):
            extra[option] = "when_required"
    return config.merge(Config(**extra)) if extra else config


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """Whether requests go to AWS itself (no endpoint, or an ``*.amazonaws.com`` one)."""
    if not endpoint_url:
        return True
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return host.endswith(_AWS_HOST_SUFFIXES) or host in {"amazonaws.com", "api.aws"}


def build_client(storage: S3Storage) -> S3Client:
    """Return the storage's S3 client (built once, shared by all threads)."""
    from .sdk import EndpointRules, narrow_handlers

    client = storage.session.client("s3", **_connection_kwargs(storage))
    client.meta.events.register_first("needs-retry.s3", _retry_cut_response)  # type: ignore[arg-type]
    EndpointRules.install(client)
    narrow_handlers(client)
    return client


#: What every successful response of these operations carries. A connection closed in
#: the middle of a response's head leaves a "200" without them (http.client takes the
#: end of the stream for the end of the head), and no Content-Length to read the body by:
#: an empty listing, an empty file. Such a response is a dropped connection: sent again.
REQUIRED_FIELDS = {
    "GetObject": "ContentLength",
    "HeadObject": "ContentLength",
    "ListObjectsV2": "Name",
    "CreateMultipartUpload": "UploadId",
    "UploadPart": "ETag",
}
#: Attempts of a request whose response came back cut (then the caller gets an error).
CUT_RESPONSE_ATTEMPTS = 3


def _retry_cut_response(
    response: Any = None, attempts: int = 1, operation: Any = None, **_: Any
) -> float | None:
    """botocore's ``needs-retry`` hook: a 2xx response missing its head is retried."""
    if response is None or operation is None or attempts >= CUT_RESPONSE_ATTEMPTS:
        return None
    http, parsed = response
    required = REQUIRED_FIELDS.get(operation.name)
    if required is None or http.status_code >= 300 or required in parsed:
        return None
    return 0.05 * attempts


def build_resource(storage: S3Storage) -> S3ServiceResource:
    """Return a boto3 S3 *resource* with the client's settings (django-storages'
    ``connection``; resources are not thread-safe: one per thread)."""
    return storage.session.resource("s3", **_connection_kwargs(storage))


def _connection_kwargs(storage: S3Storage) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "endpoint_url": storage.endpoint_url,
        "region_name": storage.region_name,
        "use_ssl": storage.use_ssl,
        "config": client_config(storage),
    }
    if storage.verify is not None:
        kwargs["verify"] = storage.verify
    return kwargs
