"""AWS Signature Version 4 query-string presigning for S3, with the standard library only.

botocore spends almost all of a presigned URL's 0.15 ms resolving the endpoint and
building a request object; the signature itself is a SHA-256 hash and an HMAC. This does
only the signature: the caller passes the already-resolved URL parts, and everything that
changes at most once a second (the timestamp, the credential scope, the derived signing
key) is computed once and reused. The output is byte-identical to botocore's
``S3SigV4QueryAuth`` for the same instant, credentials and parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

__all__ = ["CredentialCache", "Credentials", "QueryPresigner", "encode_value"]

# Refreshable credentials are re-read this often; botocore hands out frozen credentials
# with at least ten minutes of validity left, so a few seconds of reuse is always safe.
_REFRESHABLE_REUSE_SECONDS = 5.0
_SAFE = "-_.~"


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None


class CredentialCache:
    """Read credentials through a boto3 session without paying botocore's cost per URL.

    ``session.get_credentials()`` returns botocore's credential object once; refreshable
    ones (assumed roles, IRSA, SSO) are frozen again every few seconds, so they keep
    refreshing and are never held past their expiry. Static ones are frozen once.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self._source: Any = None
        self._frozen: Credentials | None = None
        self._deadline = 0.0
        self._lock = threading.Lock()

    def get(self) -> Credentials:
        frozen = self._frozen
        if frozen is not None and time.monotonic() < self._deadline:
            return frozen
        with self._lock:
            return self._refresh()

    def _refresh(self) -> Credentials:
        source = self._source
        if source is None:
            source = self._source = self._session.get_credentials()
            if source is None:
                from botocore.exceptions import NoCredentialsError

                raise NoCredentialsError()
        raw = source.get_frozen_credentials()
        frozen = Credentials(raw.access_key, raw.secret_key, raw.token)
        refreshable = hasattr(source, "refresh_needed")
        self._deadline = time.monotonic() + (
            _REFRESHABLE_REUSE_SECONDS if refreshable else float("inf")
        )
        self._frozen = frozen
        return frozen


class _Hmac:
    """HMAC-SHA256 with one key, its padded key blocks hashed once.

    ``hmac.digest`` re-initialises OpenSSL's HMAC context on every call, which costs
    more than hashing a presigned URL's string to sign; copying two prepared SHA-256
    states is half the price and gives the same RFC 2104 result.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # SHA-256 block size; derived keys are 32 bytes
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class _Moment(NamedTuple):
    """Everything that depends only on the second and the credentials."""

    second: int
    credentials: Credentials
    query_head: str  # "X-Amz-Algorithm=...&X-Amz-Expires=" (same in URL and canonical form)
    canonical_tail: str  # the sorted remainder of the auth parameters
    url_tail: str  # the remainder in botocore's URL order
    sts_head: str  # string to sign, up to the canonical request's hash
    hmac: _Hmac  # HMAC-SHA256 keyed with the derived signing key
    # (method, expires, its type) -> ("GET\n", canonical query, URL query) of this second
    forms: dict[tuple[str, object, type], tuple[str, str, str]]


def encode_value(value: object) -> str:
    """Percent-encode a query value the way botocore does (``quote``, RFC 3986 safe set)."""
    return quote(value if isinstance(value, str) else str(value), safe=_SAFE)


class QueryPresigner:
    """Presign S3 requests for one region and one host with ``UNSIGNED-PAYLOAD``."""

    def __init__(
        self,
        credentials: Callable[[], Credentials],
        region: str,
        host: str,
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._host_line = f"\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        self._moment: _Moment | None = None
        self._keys: tuple[str, str, _Hmac] | None = None  # (secret, date, signer)

    def presign(
        self,
        method: str,
        prefix: str,
        path: str,
        query: Sequence[tuple[str, str]],
        expires: object,
        now: float,
    ) -> str:
        """Return ``prefix + path + "?" + query``, signed at the epoch second ``now``.

        ``path`` is the already percent-encoded URL path, ``query`` the operation's
        already encoded (name, value) pairs in the order they appear in the URL.
        """
        moment = self._current(int(now))
        forms = moment.forms.get((method, expires, type(expires)))
        if forms is None:
            forms = self._forms(moment, method, expires)
        head, canonical_query, url_query = forms
        if query:
            url_query = "&".join([f"{name}={value}" for name, value in query]) + "&" + url_query
            canonical_query += "&" + "&".join([f"{n}={v}" for n, v in sorted(query)])
        canonical = f"{head}{path}\n{canonical_query}{self._host_line}"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        signature = moment.hmac.hexdigest((moment.sts_head + digest).encode())
        return f"{prefix}{path}?{url_query}&X-Amz-Signature={signature}"

    @staticmethod
    def _forms(moment: _Moment, method: str, expires: object) -> tuple[str, str, str]:
        """The parts of a URL that depend only on the second, the method and the expiry."""
        expires_text = str(expires) if type(expires) is int else encode_value(expires)
        auth = moment.query_head + expires_text
        forms = (f"{method.upper()}\n", auth + moment.canonical_tail, auth + moment.url_tail)
        if len(moment.forms) < 64:  # a storage uses one or two expiries and methods
            moment.forms[(method, expires, type(expires))] = forms
        return forms

    def _current(self, second: int) -> _Moment:
        credentials = self._credentials()
        moment = self._moment
        if moment is None or moment.second != second or moment.credentials is not credentials:
            moment = self._moment = self._build(second, credentials)
        return moment

    def _build(self, second: int, credentials: Credentials) -> _Moment:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        date = stamp[:8]
        scope = f"{date}/{self._region}/s3/aws4_request"
        credential = encode_value(f"{credentials.access_key}/{scope}")
        head = (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={credential}&X-Amz-Date={stamp}&X-Amz-Expires="
        )
        if credentials.token is not None:
            token = f"&X-Amz-Security-Token={encode_value(credentials.token)}"
            canonical_tail = f"{token}&X-Amz-SignedHeaders=host"
            url_tail = f"&X-Amz-SignedHeaders=host{token}"
        else:
            canonical_tail = url_tail = "&X-Amz-SignedHeaders=host"
        sts_head = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"
        signer = self._signing_hmac(credentials.secret_key, date)
        return _Moment(second, credentials, head, canonical_tail, url_tail, sts_head, signer, {})

    def _signing_hmac(self, secret: str, date: str) -> _Hmac:
        """Derive the day's signing key (four HMACs) once per secret and date."""
        cached = self._keys
        if cached is not None and cached[0] == secret and cached[1] == date:
            return cached[2]
        key = f"AWS4{secret}".encode()
        for part in (date, self._region, "s3", "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        signer = _Hmac(key)
        self._keys = (secret, date, signer)
        return signer
