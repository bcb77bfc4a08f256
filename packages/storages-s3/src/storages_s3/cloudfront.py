"""CloudFront signed URLs (canned policy, RSA SHA-1), with the private key loaded once.

django-storages re-parsed the PEM key for every URL until 1.14.4 (about 30 ms each, most
of it spent validating the RSA key); here a key is parsed and validated once per process
and the per-URL cost is the RSA signature itself plus a few string operations.
"""

from __future__ import annotations

import base64
import functools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = ["CloudFrontSigner", "load_private_key"]

# CloudFront's URL-safe base64 alphabet: "+" -> "-", "=" -> "_", "/" -> "~".
_URL_SAFE = bytes.maketrans(b"+=/", b"-_~")


@functools.lru_cache(maxsize=16)
def load_private_key(pem: bytes) -> Any:
    """Parse (and validate, once) an RSA private key given as PEM."""
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError as exc:  # pragma: no cover - cryptography is installed in tests
        raise ImproperlyConfigured(
            "Signing CloudFront URLs needs the 'cryptography' package (pip install cryptography)."
        ) from exc
    return load_pem_private_key(pem, password=None)


class CloudFrontSigner:
    """Sign URLs with a canned policy for one CloudFront public key id."""

    def __init__(self, key_id: str, private_key_pem: bytes | str) -> None:
        self.key_id = key_id
        self._pem = (
            private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        )
        self._key: Any = None
        self._sign_args: tuple[Any, Any] | None = None

    def __repr__(self) -> str:
        return f"CloudFrontSigner(key_id={self.key_id!r})"

    def rsa_sign(self, message: bytes) -> bytes:
        """Return the PKCS#1 v1.5 SHA-1 signature CloudFront expects."""
        key = self._key
        if key is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            self._sign_args = (padding.PKCS1v15(), hashes.SHA1())
            key = self._key = load_private_key(self._pem)
        assert self._sign_args is not None
        return key.sign(message, *self._sign_args)  # type: ignore[no-any-return]

    def sign(self, url: str, expires_at: int) -> str:
        """Return ``url`` signed to stay valid until the epoch second ``expires_at``."""
        resource = json.dumps(url)
        policy = (
            f'{{"Statement":[{{"Resource":{resource},"Condition":'
            f'{{"DateLessThan":{{"AWS:EpochTime":{expires_at}}}}}}}]}}'
        )
        signature = base64.b64encode(self.rsa_sign(policy.encode())).translate(_URL_SAFE)
        separator = "&" if "?" in url else "?"
        return (
            f"{url}{separator}Expires={expires_at}"
            f"&Signature={signature.decode()}&Key-Pair-Id={self.key_id}"
        )

    def generate_presigned_url(self, url: str, date_less_than: datetime) -> str:
        """The botocore ``CloudFrontSigner`` interface (canned policy only)."""
        if date_less_than.tzinfo is None:
            date_less_than = date_less_than.replace(tzinfo=timezone.utc)
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return self.sign(url, int((date_less_than - epoch) / timedelta(seconds=1)))
