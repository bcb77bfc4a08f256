"""Signing without a key of our own: the IAM signBlob API, and our signer as the SDK's.

On Cloud Run, GKE and GCE the credentials hold no key: ``GS_IAM_SIGN_BLOB`` asks IAM's
``signBlob`` for each signature, with the access token kept (and refreshed only when it
expires) instead of fetched per URL. A service-account key signs locally
(:func:`storages_gcs.urls.build_signer`), without loading this module: it is imported
only for IAM signing and for the SDK's fallback signer.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from google.auth.credentials import Signing

from storages_base.errors import PermissionDeniedError, StorageError, TransientError

from .client import default_credentials

if TYPE_CHECKING:
    from .storage import GoogleCloudStorage
    from .urls import V4Signer

__all__ = ["IamSigner", "SignerCredentials"]


class IamSigner:
    """Signs through ``iamcredentials``' ``signBlob``; the access token is cached."""

    def __init__(self, storage: GoogleCloudStorage, credentials: Any) -> None:
        if credentials is None:
            credentials, _project = default_credentials(storage)
        self._credentials = credentials
        self._endpoint = str(storage.iam_endpoint).rstrip("/")
        self._name = type(storage).__name__
        self._lock = threading.Lock()
        self._session: Any = None
        email = storage.sa_email or getattr(credentials, "service_account_email", None)
        if not email or email == "default":
            self._refresh()  # GCE credentials learn their email with their first token
            email = storage.sa_email or getattr(credentials, "service_account_email", None)
        if not email:
            raise ImproperlyConfigured(
                f"{self._name}: GS_IAM_SIGN_BLOB needs the service account's email: set "
                "GS_SA_EMAIL."
            )
        self.email = str(email)

    def _http(self) -> Any:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _refresh(self) -> None:
        from google.auth.transport.requests import Request

        with self._lock:
            if not self._credentials.valid:
                self._credentials.refresh(Request(self._http()))

    def _token(self) -> str:
        if not self._credentials.valid:  # expired or never fetched: one token request
            self._refresh()
        return str(self._credentials.token)

    def sign(self, message: bytes) -> bytes:
        """One signBlob call: the signature of ``message`` by the service account."""
        import requests

        url = f"{self._endpoint}/v1/projects/-/serviceAccounts/{self.email}:signBlob"
        body = json.dumps({"payload": base64.b64encode(message).decode("ascii")})
        headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
        context = {"operation": "sign", "backend": "gcs", "name": self.email}
        try:
            response = self._http().post(url, data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            raise TransientError(
                f"the IAM signBlob API could not be reached: {exc}", **context
            ) from exc
        if response.status_code in (401, 403):
            raise PermissionDeniedError(
                f"IAM refused to sign ({response.status_code}): the credentials need "
                f"iam.serviceAccounts.signBlob on {self.email} "
                "(roles/iam.serviceAccountTokenCreator).",
                **context,
            )
        if response.status_code != 200:
            raise StorageError(f"IAM signBlob failed ({response.status_code})", **context)
        return base64.b64decode(response.json()["signedBlob"])


class SignerCredentials(Signing):
    """Our signer as the SDK's ``Signing`` credentials, for its fallback signer."""

    def __init__(self, signer: V4Signer) -> None:
        self._v4 = signer

    def sign_bytes(self, message: bytes) -> bytes:
        return self._v4._sign(message)

    @property
    def signer_email(self) -> str:
        return self._v4.email

    @property
    def signer(self) -> Any:
        return self
