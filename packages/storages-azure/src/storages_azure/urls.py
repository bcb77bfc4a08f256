"""``url()`` for Azure: unsigned, account-key SAS and user-delegation SAS URLs.

No URL costs a request. django-storages builds a ``BlobClient`` per URL and asks the
SDK to sign (230-290 µs); here the endpoint is worked out once per storage and an
account-key SAS is one HMAC over a string (:class:`SasSigner`, checked byte for byte
against the SDK's ``generate_blob_sas`` by the tests). A user-delegation SAS (with a
token credential) is signed by the SDK with a delegation key fetched once per key
lifetime and shared by every URL (:class:`DelegationKeys`). Signed URLs are kept for
the reuse window (``storages_base.signed_urls``), so a page's URLs stay cacheable.
"""

from __future__ import annotations

import base64
import functools
import hmac
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from storages_base.signed_urls import SignedUrlCache
from storages_base.urls import Quoter

from .client import Account, url_account_of

if TYPE_CHECKING:
    from .storage import AzureStorage

__all__ = ["SAS_VERSION", "AzureUrlBuilder", "DelegationKeys", "SasSigner"]

#: The service version our SAS strings are built for (azure-storage-blob 12.31's default).
SAS_VERSION = "2026-10-06"
#: The version of user-delegation SAS: the last whose string-to-sign Azurite verifies
#: (2020-12-06's layout; the SDK's 2026 one adds delegated-user fields).
DELEGATION_SAS_VERSION = "2025-05-05"
#: SAS response-header overrides, as ``url(parameters=...)`` names them (django-storages
#: passes them to ``generate_blob_sas``), and their query names in signing order.
SAS_PARAMETERS = {
    "cache_control": "rscc",
    "content_disposition": "rscd",
    "content_encoding": "rsce",
    "content_language": "rscl",
    "content_type": "rsct",
}
_NO_HEADERS = [""] * len(SAS_PARAMETERS)
#: Permission letters in the order Azure requires them.
_PERMISSION_ORDER = "racwdxyltmeopi"
#: A delegation key is asked for this long, and replaced this long before it ends.
DELEGATION_KEY_LIFETIME = timedelta(days=1)
_DELEGATION_MARGIN = timedelta(hours=1)


def _now() -> float:
    """The signing clock (tests freeze it)."""
    return time.time()


#: ``quote(key, safe="~/")`` as a translate table ("~" is unreserved: never escaped).
_quote_path = Quoter("/")


def _timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


@functools.lru_cache(maxsize=64)
def permissions(mode: str) -> str:
    """``mode`` ("r", "w", "cw", "rw"...) as Azure's ordered permission letters."""
    letters = set(mode or "r")
    unknown = letters - set(_PERMISSION_ORDER)
    if unknown:
        raise ValueError(f"Unknown SAS permission(s) {''.join(sorted(unknown))!r} in {mode!r}.")
    return "".join(letter for letter in _PERMISSION_ORDER if letter in letters)


class SasSigner:
    """Blob SAS tokens signed with the account key, or with a user-delegation key (no
    SDK, no request).

    A user-delegation SAS is signed as version :data:`DELEGATION_SAS_VERSION` documents
    (the 2020-12-06 layout): the SDK's newest layout adds fields Azurite does not know.
    """

    def __init__(self, account_name: str, account_key: str, delegation: Any = None) -> None:
        self.account_name = account_name
        self._key = base64.b64decode(account_key)
        self._delegation = delegation
        self._last_expiry: tuple[int, str, str] = (-1, "", "")

    def __repr__(self) -> str:
        return f"<SasSigner account={self.account_name!r}>"

    def token(
        self,
        container: str,
        key: str,
        permission: str,
        expiry: float,
        overrides: dict[str, str] | None = None,
    ) -> str:
        """The query string of a SAS for ``key`` valid until ``expiry`` (epoch seconds)."""
        expires, quoted_expires = self._expires(int(expiry))
        version, identity, identity_query = SAS_VERSION, [""], []  # "": no stored policy
        if self._delegation is not None:
            version, identity_query = DELEGATION_SAS_VERSION, self._delegation_fields()
            # ... the key's fields, then no authorized/unauthorized object id, no correlation id
            identity = [value for _, value in identity_query] + ["", "", ""]
        headers = [overrides.get(name, "") for name in SAS_PARAMETERS] if overrides else _NO_HEADERS
        string_to_sign = "\n".join(
            [
                permission,
                "",  # start: valid at once
                expires,
                f"/blob/{self.account_name}/{container}/{key}",
                *identity,
                "",  # IP range
                "",  # protocol
                version,
                "b",
                "",  # snapshot time
                "",  # encryption scope
                *headers,
            ]
        )
        digest = hmac.digest(self._key, string_to_sign.encode("utf-8"), "sha256")
        # quote() of each value, as the SDK does; the fixed ones need none, and base64
        # needs "+" and "=" escaped ("/" is safe).
        signature = base64.b64encode(digest).decode().replace("+", "%2B").replace("=", "%3D")
        query = f"se={quoted_expires}&sp={permission}&sv={version}&sr=b"
        if identity_query:
            query += "".join(f"&{name}={quote(value)}" for name, value in identity_query)
        if overrides:
            query += "".join(f"&{SAS_PARAMETERS[n]}={quote(v)}" for n, v in overrides.items())
        return f"{query}&sig={signature}"

    def _expires(self, expiry: int) -> tuple[str, str]:
        """``expiry`` as the SAS writes it, plain (signed) and quoted (in the URL); URLs of
        one reuse window share their expiry, so the last one is kept."""
        last = self._last_expiry
        if last[0] != expiry:
            text = _timestamp(expiry)
            last = self._last_expiry = (expiry, text, text.replace(":", "%3A"))
        return last[1], last[2]

    def _delegation_fields(self) -> list[tuple[str, str]]:
        key = self._delegation
        return [
            ("skoid", key.signed_oid),
            ("sktid", key.signed_tid),
            ("skt", key.signed_start),
            ("ske", key.signed_expiry),
            ("sks", key.signed_service),
            ("skv", key.signed_version),
        ]


class DelegationKeys:
    """The user-delegation key of a token credential, fetched once per key lifetime.

    django-storages asked for a key with every URL until 1.12 and then cached it for a
    fixed period; here one key serves every URL of every thread until an hour before it
    ends, and a URL that would outlive the key gets a new one that covers it.
    """

    def __init__(self, fetch: Callable[[datetime, datetime], Any]) -> None:
        self._fetch = fetch
        self._key: Any = None
        self._expiry: datetime | None = None
        self._lock = threading.Lock()

    def key_for(self, url_expiry: datetime) -> Any:
        """A delegation key still valid at ``url_expiry``."""
        with self._lock:
            if self._key is None or self._expiry is None or url_expiry > self._expiry:
                now = datetime.now(timezone.utc)
                expiry = max(now + DELEGATION_KEY_LIFETIME, url_expiry + _DELEGATION_MARGIN)
                self._key = self._fetch(now - timedelta(minutes=5), expiry)
                self._expiry = expiry - _DELEGATION_MARGIN
            return self._key


class AzureUrlBuilder:
    """Build the URLs of one storage; built once per storage, shared by its threads."""

    def __init__(self, storage: AzureStorage) -> None:
        account: Account = url_account_of(storage)
        self.container: str = storage.azure_container
        self.account_name = account.name or ""
        origin = account.url
        if storage.custom_domain:
            parts = urlsplit(origin)
            origin = urlunsplit((parts.scheme, storage.custom_domain, parts.path, "", ""))
        self.base = f"{origin.rstrip('/')}/{quote(self.container)}/"
        self.expiration_secs: int | None = storage.expiration_secs
        self._cache = SignedUrlCache(int(getattr(storage, "url_reuse_window", 0) or 0))
        self._signer = SasSigner(self.account_name, account.key) if account.key else None
        self._delegation: DelegationKeys | None = None
        if self._signer is None and storage.token_credential is not None:
            self._delegation = DelegationKeys(
                lambda start, expiry: storage.service_client.get_user_delegation_key(start, expiry)
            )

    def __repr__(self) -> str:
        return f"<AzureUrlBuilder base={self.base!r}>"

    @property
    def can_sign(self) -> bool:
        return self._signer is not None or self._delegation is not None

    def url(
        self,
        key: str,
        expire: int | None = None,
        parameters: dict[str, Any] | None = None,
        mode: str = "r",
    ) -> str:
        """Return the URL of ``key`` (location included): signed when an expiry applies."""
        if expire is None:
            expire = self.expiration_secs
            if expire is not None and not parameters and mode == "r" and self.can_sign:
                # A page's images: a lookup within the window, nothing quoted or built first.
                seconds = expire
                return self._cache.url(
                    (key, (), "r"),
                    seconds,
                    _now(),
                    lambda instant: self._read(key, instant, seconds),
                )
        plain = self.base + _quote_path(key)
        if expire is None:
            return plain
        if not self.can_sign:
            raise ValueError(
                "A SAS URL needs the account key or a token credential (AZURE_ACCOUNT_KEY, "
                "a connection string with AccountKey, or AZURE_TOKEN_CREDENTIAL); with only "
                "a SAS token, set AZURE_URL_EXPIRATION_SECS = None for plain URLs."
            )
        letters = permissions(mode)
        overrides = _overrides(parameters)
        return self._cache.url(
            (key, tuple(sorted(overrides.items())), letters),
            int(expire),
            _now(),
            lambda instant: f"{plain}?{self.sas(key, letters, instant + int(expire), overrides)}",
        )

    def _read(self, key: str, instant: float, expire: int) -> str:
        """The read SAS URL of ``key`` signed at ``instant``."""
        return f"{self.base}{_quote_path(key)}?{self.sas(key, 'r', instant + expire, {})}"

    def sas(self, key: str, permission: str, expiry: float, overrides: dict[str, str]) -> str:
        """The SAS query string of ``key``: account key first, else a delegation key."""
        if self._signer is not None:
            return self._signer.token(self.container, key, permission, expiry, overrides)
        assert self._delegation is not None
        delegation_key = self._delegation.key_for(datetime.fromtimestamp(expiry, timezone.utc))
        signer = SasSigner(self.account_name, delegation_key.value, delegation_key)
        return signer.token(self.container, key, permission, expiry, overrides)


def _overrides(parameters: dict[str, Any] | None) -> dict[str, str]:
    """``url(parameters=...)``: the response headers a SAS may set, in signing order."""
    if not parameters:
        return {}
    unknown = set(parameters) - set(SAS_PARAMETERS)
    if unknown:
        raise ValueError(
            f"Unknown SAS parameter(s) {sorted(unknown)}; valid: {sorted(SAS_PARAMETERS)}."
        )
    return {name: str(parameters[name]) for name in SAS_PARAMETERS if parameters.get(name)}
