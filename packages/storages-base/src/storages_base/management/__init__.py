"""What the ``storages_base`` management commands share."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.management.base import CommandError


def known_aliases(aliases: Sequence[str]) -> list[str]:
    """``aliases``, or every alias of ``STORAGES`` when none is given; an unknown one is an
    error that names what ``STORAGES`` has."""
    configured = list(getattr(settings, "STORAGES", {}))
    unknown = [alias for alias in aliases if alias not in configured]
    if unknown:
        raise CommandError(
            f"Unknown storage alias {', '.join(unknown)}; STORAGES has {', '.join(configured)}."
        )
    return list(aliases) or configured
