"""``url()`` for S3: presigned, unsigned, custom-domain and CloudFront-signed URLs.

No URL costs a network request. django-storages asks botocore for every URL, which
resolves the endpoint through its rules engine each time (0.3-0.6 ms per URL, and a
client of its own for unsigned URLs). Here the endpoint is resolved once per storage,
the same way botocore resolves it for the same configuration, and each URL is a string
build plus, for presigned URLs, a SigV4 signature (:mod:`.sigv4`). Configurations this
module does not model (SigV2, FIPS, dual-stack, accelerate, ARNs, S3 Express, other AWS
partitions, endpoints from the AWS config file...) are handed to botocore's own
``generate_presigned_url`` on a client built once, so correctness never depends on it.

Signature version: unset means SigV4 here. botocore would presign with SigV2 in the
regions that still accept it (us-east-1 among them) when no version is configured; SigV2
is deprecated, limited to old buckets, and leaves the response parameters unsigned.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

from .cloudfront import CloudFrontSigner
from .sigv4 import CredentialCache, QueryPresigner, encode_value

__all__ = ["S3UrlBuilder"]

# get_object's parameters that botocore serialises into the query string.
_QUERY_NAMES = {
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseContentType": "response-content-type",
    "VersionId": "versionId",
    "PartNumber": "partNumber",
}
_IGNORED = frozenset({"Bucket", "Key"})  # django-storages overrides them with its own

_AWS_REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$")  # the "aws" partition
_VALID_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$")
_HOSTABLE_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_DOTTED_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PATH_BUCKET = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_SIGV4 = (None, "s3v4")
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


def _now() -> float:
    """The signing clock (tests freeze it together with botocore's)."""
    return time.time()


class _Quoter(dict[int, str]):
    """``urllib.parse.quote`` for one safe set, as a ``str.translate`` table.

    Translating is several times faster than ``quote`` for names with non-ASCII
    characters; the table learns each character once (bounded, in case names are
    hostile) and a name with nothing to escape is returned as is.
    """

    def __init__(self, safe: str) -> None:
        super().__init__()
        self.safe = safe
        self.plain = re.compile(f"[A-Za-z0-9_.~{re.escape(safe)}-]*").fullmatch

    def __missing__(self, code: int) -> str:
        quoted = quote(chr(code), safe=self.safe)
        if len(self) < 4096:
            self[code] = quoted
        return quoted

    def __call__(self, text: str) -> str:
        return text if self.plain(text) else text.translate(self)


_quote_key = _Quoter("/~")  # botocore's quoting of the Key in the URL path
_filepath_to_uri = _Quoter("/~!*()'")  # django.utils.encoding.filepath_to_uri


class _Endpoint(NamedTuple):
    """Where a bucket's objects live: ``origin + path_prefix + quoted key``."""

    origin: str
    path_prefix: str
    host: str  # the Host header SigV4 signs


class _Plan(NamedTuple):
    endpoint: _Endpoint
    presigner: QueryPresigner | None  # None: unsigned URLs


class S3UrlBuilder:
    """Build the URLs of one storage; built once per storage, shared by its threads."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self.bucket_name: str | None = storage.bucket_name
        self.custom_domain: str | None = storage.custom_domain
        self.url_protocol: str = storage.url_protocol or "https:"
        self.querystring_auth: bool = bool(storage.querystring_auth)
        self.querystring_expire: int = storage.querystring_expire
        self._cloudfront = _cloudfront_signer(storage)
        self._plan: _Plan | None = None
        self._native: bool | None = None  # decided on the first S3 URL
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def for_storage(cls, storage: Any) -> S3UrlBuilder:
        return cls(storage)

    def __repr__(self) -> str:
        return f"<S3UrlBuilder bucket={self.bucket_name!r} domain={self.custom_domain!r}>"

    def url(
        self,
        key: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """Return the URL of ``key`` (the full object key, location included)."""
        if expire is None:
            expire = self.querystring_expire
        if self.custom_domain:
            return self._domain_url(key, parameters, expire)
        plan = self._plan if self._native else self._decide()
        if plan is None or not key:
            return self._botocore_url(key, parameters, expire, http_method)
        query = _encode_query(parameters)
        if query is None or not (http_method is None or isinstance(http_method, str)):
            return self._botocore_url(key, parameters, expire, http_method)
        endpoint = plan.endpoint
        path = endpoint.path_prefix + _quote_key(key)
        if plan.presigner is None:
            tail = "?" + "&".join([f"{name}={value}" for name, value in query]) if query else ""
            return f"{endpoint.origin}{path}{tail}"
        method = http_method or "GET"
        return plan.presigner.presign(method, endpoint.origin, path, query, expire, _now())

    def _domain_url(self, key: str, parameters: dict[str, Any] | None, expire: int) -> str:
        path = _filepath_to_uri(key.replace("\\", "/"))
        url = f"{self.url_protocol}//{self.custom_domain}/{path}"
        if parameters:
            url += "?" + urlencode(parameters)
        if self.querystring_auth and self._cloudfront is not None:
            if isinstance(self._cloudfront, CloudFrontSigner):
                return self._cloudfront.sign(url, int(_now() + expire))
            # A signer object the user supplied (botocore's CloudFrontSigner interface).
            naive_utc = datetime.now(timezone.utc).replace(tzinfo=None)
            return str(
                self._cloudfront.generate_presigned_url(
                    url, date_less_than=naive_utc + timedelta(seconds=expire)
                )
            )
        return url

    # -- deciding once how this storage's S3 URLs are made --------------------------------

    def _decide(self) -> _Plan | None:
        if self._native is None:
            with self._lock:
                if self._native is None:
                    self._plan = _plan_for(self._storage, self.bucket_name, self.querystring_auth)
                    self._native = self._plan is not None
        return self._plan

    def _botocore_url(
        self, key: str, parameters: dict[str, Any] | None, expire: int, http_method: str | None
    ) -> str:
        params = dict(parameters or {})
        params["Bucket"] = self.bucket_name
        params["Key"] = key
        url = self._botocore_client().generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expire, HttpMethod=http_method
        )
        return str(url)

    def _botocore_client(self) -> Any:
        """The client django-storages would use for this storage's URLs, built once."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _fallback_client(self._storage, self.querystring_auth)
        return self._client


def _encode_query(parameters: dict[str, Any] | None) -> list[tuple[str, str]] | None:
    """Encode get_object's query parameters as botocore does; None if one is not modelled."""
    if not parameters:
        return []
    query = []
    for name, value in parameters.items():
        if name in _IGNORED:
            continue
        wire = _QUERY_NAMES.get(name)
        if wire is None:
            return None
        if name == "PartNumber":
            if type(value) is not int:
                return None
            query.append((wire, str(value)))
        elif type(value) is str:
            query.append((wire, encode_value(value)))
        else:
            return None
    return query


def _cloudfront_signer(storage: Any) -> Any:
    key_id, key = storage.cloudfront_key_id, storage.cloudfront_key
    if key_id and key:
        return CloudFrontSigner(key_id, key)
    return storage.cloudfront_signer


# -- endpoint resolution (what botocore 1.44 resolves for the same configuration) ----------


def _plan_for(storage: Any, bucket: str | None, signed: bool) -> _Plan | None:
    """Return how to build this storage's S3 URLs natively, or None to ask botocore."""
    session = storage.session
    settings = _effective_settings(storage, session)
    if settings is None or not bucket:
        return None
    region, style, signature_version, endpoint_url = settings
    if signature_version is _unsigned():
        signed = False
    elif signed and signature_version not in _SIGV4:
        return None
    if endpoint_url:
        endpoint = _custom_endpoint(endpoint_url, bucket, style)
    else:
        endpoint = _aws_endpoint(bucket, region, style, "https" if storage.use_ssl else "http")
    if endpoint is None:
        return None
    if not signed:
        return _Plan(endpoint, None)
    credentials = CredentialCache(session).get
    return _Plan(endpoint, QueryPresigner(credentials, region, endpoint.host))


def _effective_settings(storage: Any, session: Any) -> tuple[str, Any, Any, Any] | None:
    """(region, addressing style, signature version, endpoint) as botocore would see them.

    None when the client config or the AWS config (files, environment) sets anything
    that changes URLs beyond what is modelled here.
    """
    core = getattr(session, "_session", None)
    if core is None:
        return None
    config = storage.client_config
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
    style = s3.get("addressing_style")
    if style not in _STYLES:
        return None
    signature_version = signature_version or scoped_s3.get("signature_version")
    endpoint_url = storage.endpoint_url
    if not endpoint_url and _configured_endpoint(scoped):
        return None
    region = storage.region_name or session.region_name or "us-east-1"
    if not isinstance(region, str) or not _VALID_REGION.match(region):
        return None
    return region, style, signature_version, endpoint_url


def _configured_endpoint(scoped: dict[str, Any]) -> bool:
    import os

    env = any(name.startswith("AWS_ENDPOINT_URL") for name in os.environ)
    return env or "endpoint_url" in scoped or "services" in scoped


def _aws_endpoint(bucket: str, region: str, style: str | None, scheme: str) -> _Endpoint | None:
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
    return _Endpoint(f"{scheme}://{s3_host}", f"/{bucket}/", s3_host)


def _virtual(scheme: str, bucket: str, s3_host: str) -> _Endpoint:
    host = f"{bucket}.{s3_host}"
    return _Endpoint(f"{scheme}://{host}", "/", host)


def _custom_endpoint(endpoint_url: str, bucket: str, style: str | None) -> _Endpoint | None:
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
        return _Endpoint(origin, path, _host_header(origin))
    if not _PATH_BUCKET.match(bucket) or (
        style == "virtual" and not _HOSTABLE_BUCKET.match(bucket)
    ):
        return None  # botocore's rules would put such a bucket in the host of an ip
    origin = f"{parts.scheme}://{netloc}"
    return _Endpoint(origin, f"{path}{bucket}/", _host_header(origin))


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


def _unsigned() -> Any:
    import botocore

    return botocore.UNSIGNED


def _fallback_client(storage: Any, signed: bool) -> Any:
    """A botocore client configured exactly as django-storages configures its own."""
    from botocore.config import Config

    config = storage.client_config
    if config is None:
        config = Config(
            s3={"addressing_style": storage.addressing_style},
            signature_version=storage.signature_version,
        )
    if not signed:
        config = config.merge(Config(signature_version=_unsigned()))
    elif config.signature_version is None and not _profile_signature_version(storage.session):
        config = config.merge(Config(signature_version="s3v4"))  # see the module docstring
    return storage.session.client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=config,
    )


def _profile_signature_version(session: Any) -> Any:
    core = getattr(session, "_session", None)
    scoped = core.get_scoped_config() if core is not None else {}
    s3 = scoped.get("s3") if isinstance(scoped, dict) else None
    return s3.get("signature_version") if isinstance(s3, dict) else None
