"""``storages.utils``: the helpers of django-storages that user code imports.

``setting``, ``clean_name`` and ``safe_join`` keep their meaning; the name helpers are
storages-base's (which refuse control characters and traversal, as django-storages did
for traversal).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from storages_base.names import clean_name, safe_join

__all__ = ["clean_name", "safe_join", "setting"]


def setting(name: str, default: Any = None) -> Any:
    """The Django setting ``name``, or ``default`` when it is not set."""
    return getattr(settings, name, default)
