"""django-storages' import package, provided by ``storages-compat``.

Migrations and settings written for django-storages name ``storages.backends.<module>``;
this package answers those paths with the ``storages_<provider>`` classes, so a project
moves by swapping one requirement line. It takes django-storages' place the way Pillow
took ``PIL``'s: both cannot be installed at once (they write the same files), so
importing it next to django-storages is refused, naming the fix.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__", "conflicting_distribution"]

__version__ = "0.1.0"


def conflicting_distribution() -> str | None:
    """The installed django-storages (``"django-storages 1.14.6"``), or None."""
    try:
        return f"django-storages {metadata.version('django-storages')}"
    except metadata.PackageNotFoundError:
        return None


_conflict = conflicting_distribution()
if _conflict is not None:
    raise ImportError(
        f"storages-compat and {_conflict} are both installed; they provide the same "
        "'storages' package and overwrite each other's files. Uninstall both, then install "
        "only one: `pip uninstall -y django-storages storages-compat && pip install "
        "'storages-compat[s3]'` (or django-storages to go back)."
    )
