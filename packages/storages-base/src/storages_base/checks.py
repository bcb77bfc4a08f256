"""System checks of the configured storages (``manage.py check``), with no network.

The shared part lives here: walking ``STORAGES``, importing and building each backend
(an unknown option or a bad value is reported instead of failing the first request),
and the registries through which a provider adds its own checks and the diagnoses
``storages_check`` prints. A provider registers both from its package's ``checks.py``,
which :func:`load_provider_checks` imports for every backend named in ``STORAGES``::

    @register_storage_check(S3Storage)
    def bucket_is_named(storage: ConfiguredStorage) -> list[CheckMessage]: ...
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.utils.module_loading import import_string

from .options import NOT_SET

#: ``storages_check`` steps -> the storage operation whose permissions they need (the
#: providers' diagnoses map an operation to their IAM actions, roles or scopes).
STEP_OPERATIONS = {
    "save": "save",
    "exists": "exists",
    "read": "open",
    "size": "stat",
    "modified time": "stat",
    "listdir": "listdir",
    "delete": "delete",
    "fetch url": "open",
}

__all__ = [
    "STEP_OPERATIONS",
    "ConfiguredStorage",
    "Diagnosis",
    "causes",
    "check_storages",
    "configured_storages",
    "diagnose",
    "load_provider_checks",
    "missing_option",
    "register_diagnosis",
    "register_storage_check",
    "require_option",
]

StorageCheck = Callable[["ConfiguredStorage"], Iterable[checks.CheckMessage]]
#: ``(storage, step, error) -> advice or None``: what a person should do about a failure.
Diagnosis = Callable[[Storage, str, BaseException], "str | None"]
F = TypeVar("F", bound=Callable[..., Any])

_STORAGE_CHECKS: list[tuple[type, StorageCheck]] = []
_DIAGNOSES: list[tuple[type, Diagnosis]] = []


def causes(error: BaseException, limit: int = 10) -> Iterator[BaseException]:
    """Yield ``error`` and what it was raised from, nearest first (at most ``limit``).

    A diagnosis looks behind the storage error for the SDK's or the protocol's own
    exception, which says what went wrong (a reply code, a refused key).
    """
    seen: BaseException | None = error
    for _ in range(limit):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def register_storage_check(cls: type) -> Callable[[F], F]:
    """Run the decorated check for every configured storage of class ``cls`` (or a subclass)."""

    def decorator(func: F) -> F:
        if (cls, func) not in _STORAGE_CHECKS:
            _STORAGE_CHECKS.append((cls, func))
        return func

    return decorator


def register_diagnosis(cls: type) -> Callable[[F], F]:
    """Ask the decorated function to explain failures of storages of class ``cls``."""

    def decorator(func: F) -> F:
        if (cls, func) not in _DIAGNOSES:
            _DIAGNOSES.append((cls, func))
        return func

    return decorator


@dataclass
class ConfiguredStorage:
    """One entry of ``STORAGES``, as far as it can be understood without the network."""

    alias: str
    backend: str
    options: dict[str, Any]
    cls: type | None = None
    values: dict[str, Any] = field(default_factory=dict)  # resolved options (our backends)

    def value(self, name: str) -> Any:
        return self.values.get(name)

    def source(self, name: str) -> str:
        """Where the user sets option ``name``: the OPTIONS key, else its Django setting."""
        table = getattr(self.cls, "options", None)
        option_settings: tuple[str, ...] = ()
        if table is not None and name in table:
            option_settings = table[name].settings
        if name in self.options or not option_settings:
            return f"STORAGES[{self.alias!r}]['OPTIONS'][{name!r}]"
        for setting in option_settings:
            if getattr(settings, setting, NOT_SET) is not NOT_SET:
                return setting
        return f"{option_settings[0]} (or STORAGES[{self.alias!r}]['OPTIONS'][{name!r}])"

    @property
    def label(self) -> str:
        return f"STORAGES[{self.alias!r}] ({self.backend})"


def configured_storages() -> list[ConfiguredStorage]:
    """Return every entry of ``STORAGES`` (importing each backend class when it can)."""
    found = []
    for alias, entry in getattr(settings, "STORAGES", {}).items():
        entry = entry or {}
        item = ConfiguredStorage(
            alias=alias,
            backend=str(entry.get("BACKEND", "")),
            options=dict(entry.get("OPTIONS") or {}),
        )
        with contextlib.suppress(ImportError):  # reported by check_storages
            item.cls = import_string(item.backend)
        found.append(item)
    return found


def load_provider_checks() -> None:
    """Import ``<package>.checks`` of every backend in ``STORAGES``, where there is one."""
    for item in configured_storages():
        _load_checks_of(item.backend)


def _load_checks_of(dotted: str) -> None:
    package = dotted.partition(".")[0]
    if not package or package == "storages_base":
        return
    module = f"{package}.checks"
    try:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    except ImportError:
        return  # the provider is not (fully) installed: check_storages says so


def check_storages(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The ``storages`` system check: each configured storage imports, builds and makes sense."""
    load_provider_checks()
    messages: list[checks.CheckMessage] = []
    for item in configured_storages():
        messages.extend(_check_one(item))
    messages.extend(_check_collectstatic_order())
    return messages


def _check_collectstatic_order() -> list[checks.CheckMessage]:
    """storages.W001: storages_base listed after staticfiles while the static storage could
    batch its uploads (Django then runs its own, sequential, collectstatic)."""
    from django.apps import apps

    names = [config.name for config in apps.get_app_configs()]
    staticfiles = "django.contrib.staticfiles"
    if {staticfiles, "storages_base"} - set(names) or (
        names.index("storages_base") < names.index(staticfiles)
    ):
        return []
    entry = getattr(settings, "STORAGES", {}).get("staticfiles") or {}
    try:
        storage = import_string(str(entry.get("BACKEND", "")))(**(entry.get("OPTIONS") or {}))
        workers = storage._batch_workers()
    except (ImportError, ImproperlyConfigured, AttributeError, TypeError):
        return []  # not ours, or reported by the storages check
    if workers <= 0:
        return []
    return [
        checks.Warning(
            "'storages_base' comes after 'django.contrib.staticfiles' in INSTALLED_APPS, so "
            "collectstatic uploads one file after another.",
            hint="List 'storages_base' before 'django.contrib.staticfiles': its collectstatic "
            f"command then uploads on {workers} threads (storage.batch()).",
            id="storages.W001",
        )
    ]


def _check_one(item: ConfiguredStorage) -> list[checks.CheckMessage]:
    if item.cls is None:
        return [
            checks.Error(
                f"{item.label}: the backend cannot be imported.",
                hint="Check the BACKEND path and that its package is installed "
                "(pip install storages-s3, storages-ftp, ...).",
                id="storages.E001",
            )
        ]
    table = getattr(item.cls, "options", None)
    if table is not None and hasattr(table, "resolve"):
        try:
            item.values = table.resolve(item.cls, item.options)
        except ImproperlyConfigured as exc:
            return [checks.Error(f"{item.label}: {exc}", id="storages.E002")]
    messages: list[checks.CheckMessage] = []
    for cls, check in _STORAGE_CHECKS:
        if issubclass(item.cls, cls):
            messages.extend(check(item))
    if any(message.is_serious() for message in messages):
        return messages  # the provider already said what is wrong, more precisely
    unset = table.missing_at_first_use(item.values) if table is not None and item.values else ()
    if unset:  # the storage would build, but its first operation would raise
        for name in unset:
            messages += missing_option(item, name, name.replace("_", " "), "storages.E003")
        return messages
    try:
        item.cls(**item.options)  # builds no client: connections are lazy
    except ImproperlyConfigured as exc:
        messages.append(checks.Error(f"{item.label}: {exc}", id="storages.E002"))
    return messages


def missing_option(item: ConfiguredStorage, name: str, what: str, id: str) -> list[checks.Error]:
    """An error when a required option (a bucket, a container, a host) is not set."""
    if item.value(name):
        return []
    return [
        checks.Error(
            f"{item.label} has no {what}.",
            hint=f"Set {item.source(name)}.",
            id=id,
        )
    ]


def require_option(cls: type, name: str, what: str, id: str) -> StorageCheck:
    """Register the check that storages of class ``cls`` set the option ``name``.

    For a backend whose only settings check is a required option (FTP's location).
    """

    def check(item: ConfiguredStorage) -> list[checks.Error]:
        return missing_option(item, name, what, id)

    check.__doc__ = f"The {what} is set."
    return register_storage_check(cls)(check)


def diagnose(storage: Storage, step: str, error: BaseException) -> str:
    """Return what a person can do about ``error`` raised by ``step`` of ``storage``.

    The provider's registered diagnoses speak first; the shared fallback reads the
    error class of the common vocabulary. An empty string: the error says it all.
    """
    _load_checks_of(type(storage).__module__)
    for cls, explain in _DIAGNOSES:
        if isinstance(storage, cls):
            advice = explain(storage, step, error)
            if advice:
                return advice
    return _generic_advice(step, error)


def _generic_advice(step: str, error: BaseException) -> str:
    from .errors import TransientError

    status = getattr(error, "code", None)
    if step == "fetch url" and isinstance(status, int):
        return (
            f"The URL answered HTTP {status}: a browser could not load this file. Check the "
            "settings that shape URLs (custom domain, base URL, signing, public access)."
        )
    if step == "fetch url" and isinstance(error, OSError):
        return "The URL could not be fetched from here: check its host name and port."
    if isinstance(error, TransientError):
        return "The server could not be reached or failed: check its address and that it runs."
    if isinstance(error, PermissionError):
        return f"The server refused to {step}: check the credentials and their permissions."
    if isinstance(error, NotImplementedError):
        return f"This backend cannot {step}; nothing to fix unless your site needs it."
    if isinstance(error, FileNotFoundError) and step != "save":
        return "The file written a moment ago is not found: check the location and root path."
    return ""
