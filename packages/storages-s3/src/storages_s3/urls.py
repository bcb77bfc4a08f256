"""``url()`` for S3: presigned, unsigned, custom-domain and CloudFront-signed URLs.

No URL costs a network request. django-storages asks botocore for every URL, which
resolves the endpoint through its rules engine each time (0.15-0.6 ms per URL, and
a client of its own for unsigned URLs). Here the endpoint is resolved once per storage,
the same way botocore resolves it (:mod:`.endpoints`), and each URL is a string
build plus, for presigned URLs, a SigV4 signature (:mod:`.sigv4`). Configurations this
module does not model (SigV2, FIPS, dual-stack, accelerate, ARNs, S3 Express, other AWS
partitions, endpoints from the AWS config file...) are handed to botocore's own
``generate_presigned_url`` on a client built once, so correctness never depends on it.

Signature version: unset means SigV4 here. botocore would presign with SigV2 in the
regions that still accept it (us-east-1 among them) when no version is configured; SigV2
is deprecated, limited to old buckets, and leaves the response parameters unsigned.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import urlencode

from storages_base.signed_urls import SignedUrlCache
from storages_base.urls import Quoter

from .cloudfront import CloudFrontSigner
from .endpoints import (
    Endpoint,
    aws_endpoint,
    custom_endpoint,
    effective_settings,
    profile_signature_version,
    static_settings,
)
from .sigv4 import CredentialCache, Credentials, QueryPresigner, encode_value

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

_SIGV4 = (None, "s3v4")


def _now() -> float:
    """The signing clock (tests freeze it together with botocore's)."""
    return time.time()


_quote_key = Quoter("/~")  # botocore's quoting of the Key in the URL path
_filepath_to_uri = Quoter("/~!*()'")  # django.utils.encoding.filepath_to_uri


class _Plan(NamedTuple):
    endpoint: Endpoint
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
        # Unsigned URLs carry no instant: nothing to reuse.
        self._signs = self.querystring_auth and (
            not self.custom_domain or self._cloudfront is not None
        )
        self._signed = SignedUrlCache(getattr(storage, "url_reuse_window", None) or 0)
        self._plan: _Plan | None = None
        self._native: bool | None = None  # decided on the first S3 URL
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def for_storage(cls, storage: Any) -> S3UrlBuilder:
        """Read the storage's URL options; nothing is resolved before the first URL."""
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
        """Return the URL of ``key`` (the full object key, location included).

        A signed URL is signed at the start of the reuse window and kept for the rest
        of it (``storages_base.signed_urls``); unsigned URLs are cheaper to build again.
        """
        if expire is None:
            expire = self.querystring_expire
        if not self._signs:
            return self._build(key, parameters, expire, http_method, _now())
        return self._signed.url(
            (key, parameters, http_method),
            expire,
            _now(),
            lambda instant: self._build(key, parameters, expire, http_method, instant),
        )

    def _build(
        self,
        key: str,
        parameters: dict[str, Any] | None,
        expire: int,
        http_method: str | None,
        instant: float,
    ) -> str:
        """Build the URL, signed (if it is) at ``instant``."""
        if self.custom_domain:
            return self._domain_url(key, parameters, expire, instant)
        plan = self._plan if self._native else self._decide()
        if plan is None or not key:
            return self._botocore_url(key, parameters, expire, http_method)
        query = _encode_query(parameters) if parameters else ()
        if query is None or not (http_method is None or isinstance(http_method, str)):
            return self._botocore_url(key, parameters, expire, http_method)
        endpoint = plan.endpoint
        path = endpoint.path_prefix + _quote_key(key)
        if plan.presigner is None:
            tail = "?" + "&".join([f"{name}={value}" for name, value in query]) if query else ""
            return f"{endpoint.origin}{path}{tail}"
        method = http_method or "GET"
        return plan.presigner.presign(method, endpoint.origin, path, query, expire, instant)

    def _domain_url(
        self, key: str, parameters: dict[str, Any] | None, expire: int, instant: float
    ) -> str:
        path = _filepath_to_uri(key.replace("\\", "/"))
        url = f"{self.url_protocol}//{self.custom_domain}/{path}"
        if parameters:
            url += "?" + urlencode(parameters)
        if self.querystring_auth and self._cloudfront is not None:
            if isinstance(self._cloudfront, CloudFrontSigner):
                return self._cloudfront.sign(url, int(instant + expire))
            # A signer object the user supplied (botocore's CloudFrontSigner interface).
            expires = datetime.fromtimestamp(instant + expire, timezone.utc)
            return str(
                self._cloudfront.generate_presigned_url(
                    url, date_less_than=expires.replace(tzinfo=None)
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


def _encode_query(parameters: dict[str, Any]) -> list[tuple[str, str]] | None:
    """Encode get_object's query parameters as botocore does; None if one is not modelled."""
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


# -- the native plan and the botocore fallback ------------------------------------------


def _plan_for(storage: Any, bucket: str | None, signed: bool) -> _Plan | None:
    """Return how to build this storage's S3 URLs natively, or None to ask botocore."""
    if not bucket:
        return None
    settings = static_settings(storage)
    static = settings is not None
    if settings is None:
        settings = effective_settings(storage, storage.session)
    if settings is None:
        return None
    region, style, signature_version, endpoint_url = settings
    if signature_version is _unsigned():
        signed = False
    elif signed and signature_version not in _SIGV4:
        return None
    if endpoint_url:
        if endpoint_url.lower().startswith("https:") and not storage.use_ssl:
            return None  # botocore's scheme here changed across versions (1.4x): ask it
        endpoint = custom_endpoint(endpoint_url, bucket, style)
    else:
        endpoint = aws_endpoint(bucket, region, style, "https" if storage.use_ssl else "http")
    if endpoint is None:
        return None
    if not signed:
        return _Plan(endpoint, None)
    if static:
        keys = Credentials(storage.access_key, storage.secret_key, storage.security_token)
        return _Plan(endpoint, QueryPresigner(lambda: keys, region, endpoint.host))
    credentials = CredentialCache(storage.session).get
    return _Plan(endpoint, QueryPresigner(credentials, region, endpoint.host))


def _unsigned() -> Any:
    import botocore

    return botocore.UNSIGNED


def _fallback_client(storage: Any, signed: bool) -> Any:
    """A botocore client configured exactly as django-storages configures its own."""
    from botocore.config import Config

    config: Any = getattr(storage, "client_config", None)
    if config is None:
        config = Config(
            s3={"addressing_style": storage.addressing_style},
            signature_version=storage.signature_version,
        )
    if not signed:
        config = config.merge(Config(signature_version=_unsigned()))
    elif config.signature_version is None and not profile_signature_version(storage.session):
        config = config.merge(Config(signature_version="s3v4"))  # see the module docstring
    return storage.session.client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=config,
    )
