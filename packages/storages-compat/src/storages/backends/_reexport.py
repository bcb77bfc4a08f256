"""The one mechanism behind every ``storages.backends`` module: lazy, named re-exports.

A module states which provider answers it and which of django-storages' names map to
which of the provider's; the first access imports the provider and caches the object
in the module, so ``storages.backends.s3boto3.S3Boto3Storage is storages_s3.S3Storage``.
Errors name what to install, or say that the provider does not have the class yet.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["reexport"]


def reexport(
    module: str, provider: str, extra: str, names: Mapping[str, str]
) -> Callable[[str], Any]:
    """Return the ``__getattr__`` of ``module``: ``names`` maps its names to ``provider``'s."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        try:
            package = importlib.import_module(provider)
        except ModuleNotFoundError as exc:
            if exc.name != provider:
                raise
            raise ImportError(
                f"{module}.{name} needs {provider.replace('_', '-')}: "
                f"pip install 'storages-compat[{extra}]'",
                name=module,
            ) from exc
        target = names[name]
        try:
            value = getattr(package, target)
        except AttributeError:
            raise ImportError(
                f"{module}.{name} maps to {provider}.{target}, which this version of "
                f"{provider.replace('_', '-')} does not provide yet.",
                name=module,
            ) from None
        setattr(sys.modules[module], name, value)  # later accesses skip __getattr__
        return value

    return __getattr__
