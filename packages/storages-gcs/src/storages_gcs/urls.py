"""``url()`` for GCS: public URLs and V4 signed URLs, with no request.

django-storages asks the SDK for every URL (``blob.generate_signed_url``), which
builds a client, a blob and a canonical request each time. Here a public URL is a
string build, and a signed URL is the V4 canonical request (byte-identical to the
SDK's ``generate_signed_url_v4`` for the same instant) plus one RSA-SHA256 signature,
made with the service account's key, or by the IAM signBlob API
(``GS_IAM_SIGN_BLOB``: Cloud Run, GKE, no key). A URL asked again within the reuse
window (:mod:`storages_base.signed_urls`) is the same URL, from a cache: a page of
100 images signs (or calls IAM) once per image per window, not on every load.
Arguments this module does not model are handed to the SDK's own signer.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from storages_base.signed_urls import SignedUrlCache
from storages_base.urls import Quoter

from .client import default_credentials, emulator_host

__all__ = [
    "DEFAULT_ENDPOINT",
    "MAX_EXPIRATION",
    "GCSUrlBuilder",
    "V4Signer",
    "build_signer",
    "expiration_seconds",
]

DEFAULT_ENDPOINT = "https://storage.googleapis.com"
#: V4 signatures live at most seven days.
MAX_EXPIRATION = 7 * 24 * 3600
#: ``url(name, parameters)`` keys signed here; any other goes to the SDK's signer.
_NATIVE = frozenset(
    {
        "expiration",
        "method",
        "http_method",
        "version",
        "content_type",
        "content_md5",
        "response_type",
        "response_disposition",
        "generation",
        "headers",
        "query_parameters",
    }
)


#: The query parameters a V4 signature sets itself.
_OWN_PARAMS = frozenset(
    {"X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date", "X-Goog-Expires",
     "X-Goog-SignedHeaders"}
)  # fmt: skip


def _now() -> float:
    """The signing clock (tests freeze it together with the SDK's)."""
    return time.time()


def expiration_seconds(expiration: Any, now: float | None = None) -> int:
    """``GS_EXPIRATION`` as seconds from now: a timedelta, a datetime or seconds."""
    if isinstance(expiration, timedelta):
        seconds = int(expiration.total_seconds())
    elif isinstance(expiration, datetime):
        moment = expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc)
        seconds = int(moment.timestamp() - (_now() if now is None else now))
    elif isinstance(expiration, int) and not isinstance(expiration, bool):
        seconds = expiration
    else:
        raise ImproperlyConfigured(
            f"GS_EXPIRATION must be a timedelta, a datetime or seconds, not {expiration!r}."
        )
    if seconds > MAX_EXPIRATION:
        raise ImproperlyConfigured(
            f"GS_EXPIRATION is {seconds} s; V4 signed URLs live at most {MAX_EXPIRATION} s "
            "(7 days)."
        )
    return seconds


def access_endpoint(api_endpoint: str | None) -> str:
    """Where URLs point without a custom endpoint: what the SDK's client uses."""
    return (
        api_endpoint
        or emulator_host()
        or os.environ.get("API_ENDPOINT_OVERRIDE")
        or DEFAULT_ENDPOINT
    ).rstrip("/")


_quote_key = Quoter("/~")  # the SDK's quoting of an object name in the URL path
_quote_value = Quoter("~")  # the SDK's quoting of query names and values


def _quote_param(value: Any) -> str:
    if isinstance(value, bytes):
        return quote(value, safe="~")
    return _quote_value(str(value))


class V4Signer:
    """GOOG4-RSA-SHA256 query-string signing for one account (``sign`` makes the RSA part)."""

    def __init__(self, email: str, sign: Callable[[bytes], bytes]) -> None:
        self.email = email
        self._sign = sign
        # One second's timestamp, credential scope and joined query parts (by signed
        # headers, and by endpoint for plain GETs), replaced as one tuple: a thread signing
        # in another second never mixes its parts with this one's.
        self._second: tuple[int, str, str, dict[str, Any]] = (-1, "", "", {})

    def _timestamps(self, instant: float) -> tuple[str, str, dict[str, Any]]:
        """The timestamp, the credential scope and the parts cached for that second."""
        second = int(instant)
        state = self._second
        if state[0] != second:
            moment = datetime.fromtimestamp(second, timezone.utc)
            stamp = moment.strftime("%Y%m%dT%H%M%SZ")
            state = (second, stamp, f"{stamp[:8]}/auto/storage/goog4_request", {})
            self._second = state
        return state[1], state[2], state[3]

    def _fixed_pairs(
        self, fixed: dict[str, Any], signed_headers: str, timestamp: str, scope: str
    ) -> list[str]:
        """The quoted X-Goog-* pairs that do not change within a second."""
        pairs: list[str] | None = fixed.get(signed_headers)
        if pairs is None:
            pairs = [
                "X-Goog-Algorithm=GOOG4-RSA-SHA256",
                f"X-Goog-Credential={_quote_param(f'{self.email}/{scope}')}",
                f"X-Goog-Date={timestamp}",
                f"X-Goog-SignedHeaders={_quote_param(signed_headers)}",
            ]
            fixed[signed_headers] = pairs
        return pairs

    def _sign_get(
        self,
        endpoint: str,
        resource: str,
        expires: int,
        second: tuple[str, str, dict[str, Any]],
    ) -> str:
        """``sign()`` of a plain GET: the same canonical request, with the parts that do
        not change within a second (the sorted X-Goog pairs, the host) joined once."""
        timestamp, scope, fixed = second
        parts = fixed.get(endpoint)
        if parts is None:
            host = urlsplit(endpoint).netloc
            pairs = self._fixed_pairs(fixed, "host", timestamp, scope)
            algorithm, credential, date, signed = pairs
            parts = (f"{algorithm}&{credential}&{date}&X-Goog-Expires=", f"&{signed}", host)
            fixed[endpoint] = parts
        head, tail, host = parts
        query = f"{head}{expires}{tail}"
        request = f"GET\n{resource}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(request.encode("ascii")).hexdigest()
        to_sign = f"GOOG4-RSA-SHA256\n{timestamp}\n{scope}\n{digest}"
        signature = self._sign(to_sign.encode("ascii")).hex()
        return f"{endpoint}{resource}?{query}&X-Goog-Signature={signature}"

    def sign(
        self,
        method: str,
        endpoint: str,
        resource: str,
        expires: int,
        instant: float,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
    ) -> str:
        """Return ``endpoint + resource`` signed at ``instant`` for ``expires`` seconds."""
        second = self._timestamps(instant)
        timestamp, scope, fixed = second
        if method == "GET" and not headers and not query:
            return self._sign_get(endpoint, resource, expires, second)
        all_headers = dict(headers or {})
        if "host" not in {name.lower() for name in all_headers}:
            all_headers["Host"] = urlsplit(endpoint).netloc
        if method == "RESUMABLE":
            method = "POST"
            all_headers["x-goog-resumable"] = "start"
        canonical: dict[str, list[str]] = {}
        for name, value in all_headers.items():
            canonical.setdefault(name.lower().strip(), []).append(" ".join(value.split()))
        ordered = sorted((name, ",".join(values)) for name, values in canonical.items())
        signed_headers = ";".join(name for name, _ in ordered)
        pairs = [
            f"{_quote_param(name)}={_quote_param(value or '')}"
            for name, value in (query or {}).items()
            if name not in _OWN_PARAMS  # the signature's own values replace a caller's
        ]
        pairs += self._fixed_pairs(fixed, signed_headers, timestamp, scope)
        pairs.append(f"X-Goog-Expires={expires}")
        canonical_query = "&".join(sorted(pairs))
        payload = dict(ordered).get("x-goog-content-sha256", "UNSIGNED-PAYLOAD")
        request = "\n".join(
            [
                method,
                resource,
                canonical_query,
                "".join(f"{name}:{value}\n" for name, value in ordered),
                signed_headers,
                payload,
            ]
        )
        digest = hashlib.sha256(request.encode("ascii")).hexdigest()
        to_sign = f"GOOG4-RSA-SHA256\n{timestamp}\n{scope}\n{digest}"
        signature = binascii.hexlify(self._sign(to_sign.encode("ascii"))).decode("ascii")
        return f"{endpoint}{resource}?{canonical_query}&X-Goog-Signature={signature}"


CANNOT_SIGN = (
    "{cls}: the credentials ({kind}) cannot sign URLs: they hold no private key (as on "
    "Cloud Run, GKE and GCE). Set GS_IAM_SIGN_BLOB = True to sign through the IAM "
    "signBlob API (the service account needs iam.serviceAccounts.signBlob on itself: "
    "roles/iam.serviceAccountTokenCreator; set GS_SA_EMAIL if it is not the credentials' "
    "own), or GS_CREDENTIALS to a service-account key, or GS_QUERYSTRING_AUTH = False "
    "for a public bucket."
)


def build_signer(storage: Any) -> V4Signer:
    """The signer of ``storage``'s URLs (no request is made to build it).

    A service-account key (``GS_CREDENTIALS``, or ``GOOGLE_APPLICATION_CREDENTIALS``)
    signs here, one RSA-SHA256 per URL; :mod:`.signing` (IAM signBlob) is loaded only
    when ``GS_IAM_SIGN_BLOB`` asks for it, so the first URL of a process loads no module.
    Credentials that cannot sign are an ``ImproperlyConfigured`` that says what to set.
    """
    credentials = storage.credentials
    if storage.iam_sign_blob:
        from .signing import IamSigner

        iam = IamSigner(storage, credentials)
        return V4Signer(iam.email, iam.sign)
    if credentials is None:
        credentials, _project = default_credentials(storage)
    from google.auth.credentials import Signing  # loaded with the credentials

    email = getattr(credentials, "signer_email", None)
    if not isinstance(credentials, Signing) or not email:
        raise ImproperlyConfigured(
            CANNOT_SIGN.format(cls=type(storage).__name__, kind=type(credentials).__name__)
        )
    return V4Signer(str(email), credentials.sign_bytes)


class GCSUrlBuilder:
    """Build the URLs of one storage; built once per storage, shared by its threads."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self.bucket_name: str = storage.bucket_name
        self.custom_endpoint: str | None = storage.custom_endpoint
        self.endpoint = access_endpoint(storage.api_endpoint)
        self.querystring_auth = bool(storage.querystring_auth)
        self.expiration = storage.expiration
        self._relative = not isinstance(self.expiration, datetime)
        self._seconds = expiration_seconds(self.expiration) if self._relative else 0
        window = storage.url_reuse_window if self._relative else 0
        self._cache = SignedUrlCache(window or 0, remote=bool(storage.iam_sign_blob))
        if self.custom_endpoint:
            bound = self.custom_endpoint
            self._origin = bound if "://" in bound else f"http://{bound}"  # the SDK's scheme
            self._prefix = "/"
        else:
            self._origin, self._prefix = self.endpoint, f"/{self.bucket_name}/"
        self._signer: V4Signer | None = None
        self._lock = threading.Lock()

    def public(self, key: str) -> str:
        """The unsigned URL of ``key`` (a custom endpoint is bound to the bucket)."""
        quoted = _quote_key(key)
        if self.custom_endpoint:
            return f"{self.custom_endpoint.rstrip('/')}/{quoted}"
        return f"{self.endpoint}/{self.bucket_name}/{quoted}"

    def signed(self, key: str, parameters: dict[str, Any] | None = None) -> str:
        """A V4 signed URL of ``key``, the same one within the reuse window."""
        if not parameters and self._relative:  # the common case, kept short
            seconds = self._seconds
            return self._cache.url(
                key, seconds, _now(), lambda instant: self._plain(key, seconds, instant)
            )
        parameters = dict(parameters or {})
        if not set(parameters) <= _NATIVE or parameters.get("version", "v4") != "v4":
            return self._sdk_url(key, parameters)
        expiration = parameters.pop("expiration", self.expiration)
        now = _now()
        expires = expiration_seconds(expiration, now)
        if isinstance(expiration, datetime):  # an instant: the URL cannot be reused
            return self._build(key, parameters, expires, now)
        return self._cache.url(
            (key, parameters),
            expires,
            now,
            lambda instant: self._build(key, parameters, expires, instant),
        )

    def _plain(self, key: str, expires: int, instant: float) -> str:
        """A GET of ``key`` with no other parameter."""
        resource = self._prefix + _quote_key(key)
        return self.signer().sign("GET", self._origin, resource, expires, instant)

    def _build(self, key: str, parameters: dict[str, Any], expires: int, instant: float) -> str:
        endpoint, resource = self._origin, self._prefix + _quote_key(key)
        method = str(parameters.get("method") or parameters.get("http_method") or "GET").upper()
        headers = dict(parameters.get("headers") or {})
        if parameters.get("content_type") is not None:
            headers["Content-Type"] = parameters["content_type"]
        if parameters.get("content_md5") is not None:
            headers["Content-MD5"] = parameters["content_md5"]
        query = dict(parameters.get("query_parameters") or {})
        for name, wire in (
            ("response_type", "response-content-type"),
            ("response_disposition", "response-content-disposition"),
            ("generation", "generation"),
        ):
            if parameters.get(name) is not None:
                query[wire] = parameters[name]
        return self.signer().sign(method, endpoint, resource, expires, instant, headers, query)

    def signer(self) -> V4Signer:
        """The signer, built on the first signed URL (credentials are resolved then)."""
        if self._signer is None:
            with self._lock:
                if self._signer is None:
                    self._signer = build_signer(self._storage)
        return self._signer

    def _sdk_url(self, key: str, parameters: dict[str, Any]) -> str:
        """What django-storages does, for arguments not modelled here."""
        params: dict[str, Any] = {"expiration": self.expiration, "version": "v4"}
        if self.custom_endpoint:
            params["bucket_bound_hostname"] = self.custom_endpoint
        params.update(parameters)
        if "http_method" in params:
            params["method"] = params.pop("http_method")
        blob = self._storage.bucket.blob(key)
        signer = self.signer()
        from .signing import SignerCredentials

        return str(blob.generate_signed_url(credentials=SignerCredentials(signer), **params))
