"""Azure's system checks and failure diagnoses, registered with ``storages_base.checks``.

Imported by the ``storages_base`` app for every Azure backend in ``STORAGES``. The checks
read settings only (no network): an account nobody can reach, a custom domain written as
a URL, URLs that cannot be signed. The diagnosis turns an Azure error met by
``storages_check`` into what to grant or change.
"""

from __future__ import annotations

from django.core import checks
from django.core.files.storage import Storage

from storages_base.checks import (
    STEP_OPERATIONS,
    ConfiguredStorage,
    causes,
    register_diagnosis,
    register_storage_check,
)

from .errors import ROLES, code_of, status_of
from .storage import AzureStorage

__all__ = ["check_azure_settings", "explain_azure_failure"]


@register_storage_check(AzureStorage)
def check_azure_settings(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    """An account to talk to; a bare custom domain; SAS URLs that can be signed."""
    messages: list[checks.CheckMessage] = []
    connected = item.value("connection_string") or item.value("emulated_mode")
    if not connected and not item.value("account_name"):
        messages.append(
            checks.Error(
                f"{item.label} has no Azure account.",
                hint=f"Set {item.source('account_name')} (with AZURE_ACCOUNT_KEY, "
                "AZURE_SAS_TOKEN or AZURE_TOKEN_CREDENTIAL), or AZURE_CONNECTION_STRING.",
                id="storages_azure.E001",
            )
        )
    domain = item.value("custom_domain") or ""
    if "://" in domain or "/" in domain.split("://")[-1]:
        messages.append(
            checks.Error(
                f"{item.label}: custom_domain {domain!r} must be a host name (host:port in "
                "emulated mode), without a scheme or a path.",
                hint=f"Set {item.source('custom_domain')} = "
                f"{domain.split('://')[-1].split('/')[0]!r}; the scheme comes from AZURE_SSL.",
                id="storages_azure.E002",
            )
        )
    signs = (
        item.value("account_key")
        or item.value("token_credential")
        or "accountkey=" in str(item.value("connection_string") or "").lower()
        or item.value("emulated_mode")
    )
    if item.value("expiration_secs") is not None and not signs:
        messages.append(
            checks.Error(
                f"{item.label}: expiration_secs asks for SAS URLs, but nothing can sign them "
                "(a SAS token cannot sign another).",
                hint="Set AZURE_ACCOUNT_KEY or AZURE_TOKEN_CREDENTIAL, or set "
                f"{item.source('expiration_secs')} = None on a public container.",
                id="storages_azure.E003",
            )
        )
    return messages


@register_diagnosis(AzureStorage)
def explain_azure_failure(storage: Storage, step: str, error: BaseException) -> str | None:
    """Say what to change for an Azure failure: container, role, SAS permission, key, clock."""
    assert isinstance(storage, AzureStorage)
    code, status = _code_and_status(error)
    if code == "ContainerNotFound":
        return (
            f"The container {storage.azure_container!r} does not exist: create it (private, "
            "or with blob access for public files), or fix AZURE_CONTAINER."
        )
    if step == "fetch url" and status in (401, 403, 404):
        if storage.expiration_secs is not None:
            return "The SAS URL was refused. " + _credential_advice(code or str(status))
        return (
            "The URL was refused: a private container needs AZURE_URL_EXPIRATION_SECS (SAS "
            "URLs); a storage with expiration_secs = None needs a container with public "
            "blob access."
        )
    if code == "AuthorizationPermissionMismatch" or (status == 403 and step != "fetch url"):
        letter, role = ROLES.get(STEP_OPERATIONS.get(step, ""), ("", ""))
        if code in ("AuthenticationFailed", "AuthorizationFailure"):
            return _credential_advice(code)
        return (
            f"Azure refused to {step} ({code or status}): grant the {role!r} role on the "
            f"container to the identity of AZURE_TOKEN_CREDENTIAL, or add the {letter!r} "
            "permission to AZURE_SAS_TOKEN."
        )
    if code in ("AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo"):
        return _credential_advice(code)
    return None


def _credential_advice(code: str) -> str:
    return (
        f"Azure did not accept the credential ({code}): check AZURE_ACCOUNT_KEY (or the "
        "connection string's AccountKey); a SAS token may have expired, lack a permission "
        "or have been cut; and this machine's clock must be within 15 minutes of Azure's."
    )


def _code_and_status(error: BaseException) -> tuple[str, int | None]:
    """Azure's error code and the HTTP status behind a storage error (or a URL fetch)."""
    for seen in causes(error):
        status = status_of(seen)
        if status is not None:
            return code_of(seen), status
        http_status = getattr(seen, "code", None)  # urllib's HTTPError of a URL fetch
        if isinstance(http_status, int):
            headers = getattr(seen, "headers", None) or {}
            return str(headers.get("x-ms-error-code", "") or ""), http_status
    return "", None
