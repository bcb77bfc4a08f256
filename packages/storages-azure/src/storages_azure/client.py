"""The account a storage talks to, and the SDK clients built from it.

The account (endpoint, name, key or SAS) is worked out from the options without the SDK,
so URLs cost no SDK import and no client; the ``ContainerClient`` is built on the first
request, once per storage, and shared by every thread (azure-storage-blob's clients are
thread-safe). Authentication, first found wins: ``connection_string``, ``account_key``,
``sas_token``, ``token_credential`` (django-storages' order).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from storages_base.clients import quiet_session_class, requests_environment

from .options import EMULATOR_ACCOUNT, EMULATOR_HOST

if TYPE_CHECKING:  # the SDK is imported on the first request, not with the settings
    from azure.storage.blob import BlobServiceClient, ContainerClient

    from .storage import AzureStorage

__all__ = [
    "EMULATOR_KEY",
    "Account",
    "BlobRef",
    "BlobRefs",
    "account_of",
    "build_container_client",
    "build_service_client",
    "delete_blob",
    "get_properties",
    "get_range",
    "list_level",
    "parse_connection_string",
    "url_account_of",
]

#: Azurite's well-known development key (public documentation, not a secret).
EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
#: Reads are fetched in pieces of this size (the SDK's defaults, 32 MiB and 4 MiB, would
#: hold 32 MiB in memory for the first read of a large blob).
READ_CHUNK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Account:
    """Where the blobs are and what signs for them (never shown: ``repr`` hides the key)."""

    url: str  # the blob endpoint, without a trailing slash
    name: str | None
    key: str | None = None
    sas: str | None = None

    def __repr__(self) -> str:
        return f"Account(url={self.url!r}, name={self.name!r})"


def parse_connection_string(text: str) -> dict[str, str]:
    """The ``Key=Value;`` pairs of a connection string, keys upper-cased."""
    pairs: dict[str, str] = {}
    for part in text.strip().rstrip(";").split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            raise ImproperlyConfigured(
                "The Azure connection string is malformed: every part must be Key=Value."
            )
        pairs[key.strip().upper()] = value.strip()
    return pairs


def _from_connection_string(text: str) -> Account:
    pairs = parse_connection_string(text)
    if pairs.get("USEDEVELOPMENTSTORAGE", "").lower() == "true":
        return Account(f"http://{EMULATOR_HOST}/{EMULATOR_ACCOUNT}", EMULATOR_ACCOUNT, EMULATOR_KEY)
    name = pairs.get("ACCOUNTNAME")
    url = pairs.get("BLOBENDPOINT")
    if not url:
        if not name:
            raise ImproperlyConfigured(
                "The Azure connection string names neither BlobEndpoint nor AccountName."
            )
        scheme = pairs.get("DEFAULTENDPOINTSPROTOCOL", "https")
        url = f"{scheme}://{name}.blob.{pairs.get('ENDPOINTSUFFIX', 'core.windows.net')}"
    if not name:
        name = _name_from_url(url)
    sas = pairs.get("SHAREDACCESSSIGNATURE")
    return Account(url.rstrip("/"), name, pairs.get("ACCOUNTKEY"), sas.lstrip("?") if sas else None)


def _name_from_url(url: str) -> str | None:
    """The account name in an endpoint: its first host label, or (emulator) its path."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if path:
        return path.split("/")[0]
    host = parts.hostname or ""
    return host.split(".")[0] if ".blob." in host else None


def account_of(storage: AzureStorage) -> Account:
    """The account requests go to, from the connection string or the separate options."""
    if storage.connection_string:
        return _from_connection_string(storage.connection_string)
    scheme = "https" if storage.azure_ssl else "http"
    if storage.emulated_mode:
        name = storage.account_name or EMULATOR_ACCOUNT
        key = storage.account_key
        if (
            key is None
            and name == EMULATOR_ACCOUNT
            and not (storage.sas_token or storage.token_credential)
        ):
            key = EMULATOR_KEY
        host = storage.custom_domain or EMULATOR_HOST
        url = f"{scheme}://{host}/{name}"
    else:
        name = storage.account_name or ""
        if not name:
            raise ImproperlyConfigured(
                f"{type(storage).__name__}: no Azure account; set AZURE_ACCOUNT_NAME or "
                "AZURE_CONNECTION_STRING."
            )
        url = f"{scheme}://{name}.blob.{storage.endpoint_suffix}"
        key = storage.account_key
    sas = storage.sas_token.lstrip("?") if storage.sas_token else None
    return Account(url, name, key, sas)


def url_account_of(storage: AzureStorage) -> Account:
    """The account URLs are built for: ``custom_connection_string`` shapes URLs only."""
    custom = storage.custom_connection_string
    if not custom:
        return account_of(storage)
    shown = _from_connection_string(custom)
    real = account_of(storage)
    # The URL's signature is checked by the real account: sign with its key.
    return Account(shown.url, shown.name or real.name, real.key or shown.key, shown.sas or real.sas)


def _credential(storage: AzureStorage, account: Account) -> Any:
    if account.key:
        return {"account_name": account.name, "account_key": account.key}
    if account.sas:
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(account.sas)
    return storage.token_credential


#: The SDK's exponential retry: the first wait, and the base of the growing ones (seconds).
RETRY_INITIAL_BACKOFF = 1
RETRY_INCREMENT_BASE = 2


def client_kwargs(storage: AzureStorage) -> dict[str, Any]:
    """The client's keyword arguments: timeouts, bounded reads, then the user's own."""
    kwargs: dict[str, Any] = {
        # The SDK's retries wait 15 s, 18 s and 24 s (plus jitter): a server that is down
        # held every request for about 85 s before it failed. Retry as often, sooner: the
        # waits are about 1 s, 3 s and 5 s, so a failure reaches the caller within ~20 s.
        "initial_backoff": RETRY_INITIAL_BACKOFF,
        "increment_base": RETRY_INCREMENT_BASE,
        "connection_timeout": storage.timeout,
        "read_timeout": max(int(storage.timeout or 0), 60),
        "max_single_get_size": READ_CHUNK_SIZE,
        "max_chunk_get_size": READ_CHUNK_SIZE,
    }
    if storage.api_version:
        kwargs["api_version"] = storage.api_version
    quiet, bundle = requests_environment()
    if quiet:  # requests stops scanning the environment on every request
        kwargs["use_env_settings"] = False
        if bundle:
            kwargs["connection_verify"] = bundle
    kwargs.update(storage.client_options or {})
    if quiet and "transport" not in kwargs and kwargs.get("use_env_settings") is False:
        kwargs["transport"] = quiet_transport(kwargs)
    return kwargs


#: The SDK's block size for reading responses (``_shared.constants.DATA_BLOCK_SIZE``),
#: given to the transport built here as the SDK gives it to the one it builds.
DATA_BLOCK_SIZE = 256 * 1024


def quiet_transport(kwargs: dict[str, Any]) -> Any:
    """azure-core's ``RequestsTransport`` as the SDK builds it (the same adapter, block
    size, timeouts and TLS settings), whose session prepares each request without the
    merges it has nothing to merge (``storages_base.clients.quiet_session_class``: about
    37 us of each request's client CPU). Retries, signing and MD5s are the pipeline's,
    unchanged."""
    return _quiet_transport_class()(**{"connection_data_block_size": DATA_BLOCK_SIZE, **kwargs})


@functools.cache
def _quiet_transport_class() -> type:
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    class QuietRequestsTransport(RequestsTransport):  # type: ignore[misc]
        def open(self) -> None:
            super().open()
            session = self.session
            if type(session) is requests.Session and not session.trust_env:
                session.__class__ = quiet_session_class(requests.Session)

    return QuietRequestsTransport


def build_service_client(storage: AzureStorage) -> BlobServiceClient:
    """The storage's ``BlobServiceClient`` (user-delegation keys, checks)."""
    from azure.storage.blob import BlobServiceClient

    account = account_of(storage)
    return BlobServiceClient(
        account.url, credential=_credential(storage, account), **client_kwargs(storage)
    )


def build_custom_service_client(storage: AzureStorage) -> BlobServiceClient:
    """django-storages' ``custom_service_client``: the account as URLs show it
    (``AZURE_CUSTOM_CONNECTION_STRING``, else ``AZURE_CUSTOM_DOMAIN``), signed by the real
    account. The storage itself never sends requests through it."""
    from azure.storage.blob import BlobServiceClient

    account = url_account_of(storage)
    url = account.url
    if not storage.custom_connection_string and storage.custom_domain and not storage.emulated_mode:
        url = f"{'https' if storage.azure_ssl else 'http'}://{storage.custom_domain}"
    return BlobServiceClient(
        url, credential=_credential(storage, account), **client_kwargs(storage)
    )


def build_container_client(storage: AzureStorage) -> ContainerClient:
    """The storage's ``ContainerClient``: every blob request goes through it."""
    return storage.service_client.get_container_client(storage.azure_container)


def list_level(
    container: ContainerClient, prefix: str, page_size: int | None = None
) -> Iterator[tuple[str, bool]]:
    """The names one level under ``prefix`` (List Blobs with delimiter "/"), each with
    whether it is a folder, every page of them.

    The request goes through the container client's own pipeline (its credential,
    signing, retries, hosts and XML decoding), one per page as ``walk_blobs`` sends it;
    only the names and the next marker are read from the XML. ``walk_blobs`` turns every
    blob into ``BlobProperties`` (about 200 us each), which ``listdir`` never looks at.
    """
    from azure.core.rest import HttpRequest

    pipeline = container._pipeline  # the client's configured pipeline (no public handle)
    headers = {"x-ms-version": container.api_version, "Accept": "application/xml"}
    params = {"restype": "container", "comp": "list", "delimiter": "%2F"}
    if prefix:
        params["prefix"] = quote(prefix, safe="")
    if page_size:
        params["maxresults"] = str(int(page_size))
    marker = ""
    while True:
        if marker:
            params["marker"] = quote(marker, safe="")
        request = HttpRequest("GET", container.url, params=dict(params), headers=headers)
        response = pipeline.run(request, stream=False)
        root = _listing_xml(response)
        for item in root.iterfind("Blobs/*"):
            yield _xml_name(item.find("Name")), item.tag == "BlobPrefix"
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return


def _raise_for_status(http_response: Any, *expected: int) -> None:
    """The SDK's error for a status other than ``expected``: the same classes its
    generated layer raises (status, and ``x-ms-error-code`` in the headers)."""
    if http_response.status_code in expected:
        return
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceModifiedError,
        ResourceNotFoundError,
        ResourceNotModifiedError,
        map_error,
    )

    errors = {
        401: ClientAuthenticationError,
        404: ResourceNotFoundError,
        409: ResourceExistsError,
        304: ResourceNotModifiedError,
        412: ResourceModifiedError,
    }
    map_error(status_code=http_response.status_code, response=http_response, error_map=errors)
    raise HttpResponseError(response=http_response)


def _listing_xml(response: Any) -> Any:
    """The XML of a List Blobs response, or the SDK's error for its status."""
    http_response = response.http_response
    _raise_for_status(http_response, 200)
    from azure.core.pipeline.policies import ContentDecodePolicy

    root = response.context.get(ContentDecodePolicy.CONTEXT_NAME)  # the XML, parsed once
    if root is None or not hasattr(root, "iterfind"):
        from xml.etree import ElementTree

        root = ElementTree.fromstring(http_response.body())
    return root


def _xml_name(element: Any) -> str:
    """A ``Name`` element's text; Azure percent-encodes names XML cannot hold."""
    text = element.text or ""
    return unquote(text) if element.get("Encoded") == "true" else text


#: Tries of a GET whose body could not be read whole (the SDK's downloader's count).
BODY_TRIES = 3


class BlobRef(NamedTuple):
    """One blob as our own requests need it: its URL and the pipeline to send them."""

    pipeline: Any
    url: str
    api_version: str


class BlobRefs:
    """The blobs of one container as :class:`BlobRef`: the URL as ``BlobClient`` forms it
    (``quote(name, safe="~/")``) and the container client's own pipeline (the one a
    ``BlobClient`` of it shares: the same policies and transport), without building a
    ``BlobClient`` per name (about 65 us: its generated client, serializer and
    deserializer)."""

    def __init__(self, container: ContainerClient) -> None:
        self.pipeline = container._pipeline  # the client's configured pipeline
        self.api_version = container.api_version
        base, sep, query = container.url.partition("?")
        self._base, self._query = base + "/", sep + query

    def __call__(self, key: str) -> BlobRef:
        url = f"{self._base}{quote(key, safe='~/')}{self._query}"
        return BlobRef(self.pipeline, url, self.api_version)


def get_range(
    blob: BlobRef, start: int, length: int, *, md5: bool, if_match: str | None = None
) -> tuple[bytes, Any]:
    """GET ``length`` bytes of a blob from ``start`` (with Azure's MD5 of the range when
    ``md5``): the body and the response headers.

    Sent through the container client's own pipeline (credential, signing, retries, hosts),
    as the SDK's ``download_blob`` sends its first range, and like it sent again, twice
    at most, when the body breaks off (the pipeline's retries cover the request and the
    headers). What it skips is the SDK's reading of the ~50 response headers into a
    ``BlobProperties`` and its downloader (about a quarter of a small read's client CPU);
    the caller reads the few headers it needs. ``if_match``: only from that version of
    the blob (412 otherwise), as the downloader asks for its ranges after the first. An
    empty blob has no range to send: its 416 is followed by a plain GET, as the SDK does.
    """
    from azure.core.exceptions import (
        DecodeError,
        HttpResponseError,
        IncompleteReadError,
        ServiceResponseError,
    )

    headers = {"x-ms-version": blob.api_version}
    headers["x-ms-range"] = f"bytes={start}-{start + length - 1}"
    if md5:
        headers["x-ms-range-get-content-md5"] = "true"
    if if_match:
        headers["If-Match"] = if_match
    for attempt in range(1, BODY_TRIES + 1):
        http_response = _get(blob, headers)
        if http_response.status_code == 416 and not start:  # an empty blob: no range
            http_response.close()
            http_response = _get(blob, {"x-ms-version": blob.api_version})
        if http_response.status_code not in (200, 206):
            http_response.read()  # the error's body (its message)
            _raise_for_status(http_response, 200, 206)
        try:  # the bytes as stored (a gzip blob stays gzip: storages-base decodes it)
            return b"".join(http_response.iter_raw()), http_response.headers
        except (IncompleteReadError, HttpResponseError, DecodeError, ServiceResponseError):
            # the body broke off (azure-core's stream errors): the SDK's downloader
            # sends the GET again for these, so do we
            if attempt == BODY_TRIES:
                raise
    raise AssertionError("unreachable")


def _get(blob: BlobRef, headers: dict[str, str]) -> Any:
    from azure.core.rest import HttpRequest

    request = HttpRequest("GET", blob.url, headers=headers)
    return blob.pipeline.run(request, stream=True).http_response


def delete_blob(blob: BlobRef) -> None:
    """Delete Blob, its snapshots with it, through the container client's pipeline (as
    ``BlobClient.delete_blob(delete_snapshots="include")`` sends it, without the
    generated layer's building of the request and reading of the response headers)."""
    from azure.core.rest import HttpRequest

    headers = {"x-ms-version": blob.api_version, "x-ms-delete-snapshots": "include"}
    http_response = blob.pipeline.run(
        HttpRequest("DELETE", blob.url, headers=headers)
    ).http_response
    _raise_for_status(http_response, 202)


def get_properties(blob: BlobRef) -> Any:
    """Get Blob Properties (HEAD) through the container client's pipeline, as
    ``get_blob_properties`` sends it: the response headers, of which the caller reads the
    few it needs (the SDK reads about 50 into a ``BlobProperties``)."""
    from azure.core.rest import HttpRequest

    request = HttpRequest("HEAD", blob.url, headers={"x-ms-version": blob.api_version})
    http_response = blob.pipeline.run(request).http_response
    _raise_for_status(http_response, 200)
    return http_response.headers
