"""Where an S3 bucket's objects are, as botocore resolves it for presigned URLs.

botocore 1.44 resolves S3 endpoints through its rules engine on every request, with a few
presigning quirks on top: without an addressing style, presigned URLs go to the global
``{bucket}.s3.amazonaws.com`` whatever the region; a custom endpoint is path-style unless
"virtual" is asked for; a bucket that is not a valid host label is always path-style.
This module reproduces those answers once per storage for the configurations it models
and returns None for every other one (the caller then asks botocore itself). Every
answer here is checked byte for byte against botocore by ``tests/test_urls.py``.
"""

from __future__ import annotations

import os
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "Endpoint",
    "aws_endpoint",
    "custom_endpoint",
    "effective_settings",
    "profile_signature_version",
    "static_settings",
]

_AWS_REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$")  # the "aws" partition
_VALID_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$")
_HOSTABLE_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_DOTTED_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PATH_BUCKET = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_STYLES = (None, "auto", "virtual", "path")
# Config options that do not change a presigned URL.
_HARMLESS_CONFIG = frozenset(
    {
        "connect_timeout", "read_timeout", "retries", "max_pool_connections", "proxies",
        "proxies_config", "tcp_keepalive", "user_agent", "user_agent_extra",
        "user_agent_appid", "parameter_validation", "client_cert", "inject_host_prefix",
        "request_checksum_calculation", "response_checksum_validation",
        "request_min_compression_size_bytes", "disable_request_compression",
        "signature_version", "s3",
    }
)  # fmt: skip
_HARMLESS_S3 = frozenset({"addressing_style", "payload_signing_enabled", "use_arn_region"})
# Environment variables that do not change a URL beyond the storage's own keys
# (credentials, botocore's or django-storages' names; TLS, retries, checksums).
_HARMLESS_ENV = frozenset(
    {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN", "AWS_S3_ACCESS_KEY_ID", "AWS_S3_SECRET_ACCESS_KEY",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
        "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION",
        "AWS_EC2_METADATA_DISABLED", "AWS_METADATA_SERVICE_TIMEOUT",
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "AWS_SDK_UA_APP_ID",
    }
)  # fmt: skip


class Endpoint(NamedTuple):
    """Where a bucket's objects live: ``origin + path_prefix + quoted key``."""

    origin: str
    path_prefix: str
    host: str  # the Host header SigV4 signs


def effective_settings(storage: Any, session: Any) -> tuple[str, Any, Any, Any] | None:
    """(region, addressing style, signature version, endpoint) as botocore would see them.

    None when the client config or the AWS config (files, environment) sets anything
    that changes URLs beyond what is modelled here.
    """
    core = getattr(session, "_session", None)
    if core is None:
        return None
    config = getattr(storage, "client_config", None)
    if config is None:  # django-storages' own Config: these two, and proxies
        client_s3: dict[str, Any] = {"addressing_style": storage.addressing_style}
        signature_version = storage.signature_version
    elif set(getattr(config, "_user_provided_options", ())) <= _HARMLESS_CONFIG:
        client_s3, signature_version = dict(config.s3 or {}), config.signature_version
    else:
        return None
    scoped = core.get_scoped_config() or {}
    scoped_s3 = scoped.get("s3")
    scoped_s3 = scoped_s3 if isinstance(scoped_s3, dict) else {}
    s3 = {**(core.get_config_variable("s3") or {}), **client_s3}
    if not {k for k, v in s3.items() if v is not None} <= _HARMLESS_S3:
        return None
    if any(
        core.get_config_variable(name) for name in ("use_fips_endpoint", "use_dualstack_endpoint")
    ):
        return None
    signature_version = signature_version or scoped_s3.get("signature_version")
    if not storage.endpoint_url and _configured_endpoint(scoped):
        return None
    region = storage.region_name or session.region_name
    return _checked(region, s3.get("addressing_style"), signature_version, storage.endpoint_url)


def static_settings(storage: Any) -> tuple[str, Any, Any, Any] | None:
    """What :func:`effective_settings` would answer, read from the storage alone.

    Only when nothing outside the storage's options can change the answer: keys and no
    profile or client config in the options, no AWS config file, no ``AWS_*`` variable
    in the environment that botocore reads beyond the credentials. Then no session is
    built and boto3 is not even imported for URLs.
    """
    if storage.client_config is not None or storage.session_profile:
        return None
    if not (storage.access_key and storage.secret_key):
        return None
    if any(name.startswith("AWS_") and name not in _HARMLESS_ENV for name in os.environ):
        return None
    if os.path.exists(os.path.expanduser("~/.aws/config")):
        return None
    return _checked(
        storage.region_name, storage.addressing_style, storage.signature_version,
        storage.endpoint_url,
    )  # fmt: skip


def _checked(
    region: Any, style: Any, signature_version: Any, endpoint_url: Any
) -> tuple[str, Any, Any, Any] | None:
    region = region or "us-east-1"
    if style not in _STYLES or not isinstance(region, str) or not _VALID_REGION.match(region):
        return None
    return region, style, signature_version, endpoint_url


def _configured_endpoint(scoped: dict[str, Any]) -> bool:

    env = any(name.startswith("AWS_ENDPOINT_URL") for name in os.environ)
    return env or "endpoint_url" in scoped or "services" in scoped


def aws_endpoint(bucket: str, region: str, style: str | None, scheme: str) -> Endpoint | None:
    """AWS's own endpoints, as botocore resolves them for presigned URLs."""
    if not _AWS_REGION.match(region) or "--" in bucket:
        return None
    hostable = bool(_HOSTABLE_BUCKET.match(bucket))
    if not hostable and (not _DOTTED_BUCKET.match(bucket) or ".." in bucket or _IPV4.match(bucket)):
        return None
    if hostable and style in (None, "auto"):
        # botocore presigns against the global endpoint unless a style is forced.
        return _virtual(scheme, bucket, "s3.amazonaws.com")
    s3_host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
    if hostable and style == "virtual":
        return _virtual(scheme, bucket, s3_host)
    if not hostable and scheme == "http":
        return None  # dotted names over http are virtual-hosted by the rules; not modelled
    return Endpoint(f"{scheme}://{s3_host}", f"/{bucket}/", s3_host)


def _virtual(scheme: str, bucket: str, s3_host: str) -> Endpoint:
    host = f"{bucket}.{s3_host}"
    return Endpoint(f"{scheme}://{host}", "/", host)


def custom_endpoint(endpoint_url: str, bucket: str, style: str | None) -> Endpoint | None:
    """An S3-compatible endpoint: path-style unless "virtual" is asked for."""
    parts = urlsplit(endpoint_url)
    netloc = parts.netloc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in netloc
        or netloc != netloc.lower()
        or "s3-accelerate" in netloc
        or "--" in bucket
    ):
        return None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if style == "virtual" and not _is_ip(parts.hostname):
        if not _HOSTABLE_BUCKET.match(bucket):
            return None
        origin = f"{parts.scheme}://{bucket}.{netloc}"
        return Endpoint(origin, path, _host_header(origin))
    if not _PATH_BUCKET.match(bucket) or (
        style == "virtual" and not _HOSTABLE_BUCKET.match(bucket)
    ):
        return None  # botocore's rules would put such a bucket in the host of an ip
    origin = f"{parts.scheme}://{netloc}"
    return Endpoint(origin, f"{path}{bucket}/", _host_header(origin))


def _is_ip(hostname: str) -> bool:
    return ":" in hostname or bool(_IPV4.match(hostname))


def _host_header(origin: str) -> str:
    """The Host value botocore signs: lowercase, without the scheme's default port."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return host


def profile_signature_version(session: Any) -> Any:
    """The signature version the AWS config file's ``s3`` section sets, if any."""
    core = getattr(session, "_session", None)
    scoped = core.get_scoped_config() if core is not None else {}
    s3 = scoped.get("s3") if isinstance(scoped, dict) else None
    return s3.get("signature_version") if isinstance(s3, dict) else None
