"""The declarative options table each backend states once.

From one :class:`Options` table come: resolution (constructor OPTIONS > class
attribute on a subclass > Django setting > environment variable > default), the
rejection of unknown options with the nearest valid name, secret masking in
``repr()``/``deconstruct()``, and the settings table of each package README.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["AT_CONSTRUCTION", "AT_FIRST_USE", "NOT_SET", "Option", "Options"]

#: ``Option.required``: a missing value makes the constructor raise ImproperlyConfigured.
AT_CONSTRUCTION = "construction"
#: ``Option.required``: the storage builds without it (a model module imports in a build
#: or test environment without the settings); its first operation raises, and the system
#: check reports it at once. django-storages' timing for a bucket name.
AT_FIRST_USE = "first use"


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()


@dataclass(frozen=True)
class Option:
    """One option: its name, the Django settings and env vars it falls back to, its default.

    ``setting`` may name several settings; the first one that is defined wins (as in
    ``AWS_S3_ACCESS_KEY_ID`` then ``AWS_ACCESS_KEY_ID``). ``default`` may be a callable
    taking no argument, evaluated when the storage is built (e.g. ``MEDIA_URL``).

    The construction rules are stated here, once per option, with django-storages'
    timing: ``required`` says when a missing value is refused (``AT_CONSTRUCTION``,
    ``AT_FIRST_USE``, or None: optional); ``together`` names options that must be set
    with this one, both or neither (refused at construction).
    """

    name: str
    setting: str | tuple[str, ...] | None = None
    default: Any = None
    doc: str = ""
    env: tuple[str, ...] = ()
    secret: bool = False
    setting_only: bool = False  # readable from settings, not an OPTIONS key
    doc_default: str | None = None  # how the default reads in the docs, where repr() is poor
    required: str | None = None  # AT_CONSTRUCTION, AT_FIRST_USE or None (optional)
    together: tuple[str, ...] = ()  # set with these options or not at all

    @property
    def settings(self) -> tuple[str, ...]:
        if self.setting is None:
            return ()
        return (self.setting,) if isinstance(self.setting, str) else self.setting

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def from_settings(self) -> Any:
        """Return the first defined Django setting, then env var, then the default."""
        for name in self.settings:
            value = getattr(settings, name, NOT_SET)
            if value is not NOT_SET:
                return value
        for var in self.env:
            value = os.environ.get(var)
            if value:
                return value
        return self.default_value()


@dataclass(frozen=True)
class Options:
    """An ordered table of :class:`Option`, extended by subclasses with :meth:`extend`."""

    items: tuple[Option, ...] = ()
    _index: Mapping[str, Option] = field(init=False, repr=False, compare=False)

    def __init__(self, *items: Option) -> None:
        index: dict[str, Option] = {}
        for item in items:
            index[item.name] = item  # a later option of the same name replaces an earlier one
        object.__setattr__(self, "items", tuple(index.values()))
        object.__setattr__(self, "_index", index)

    def extend(self, *items: Option) -> Options:
        """Return a new table with ``items`` added (or replacing same-named options)."""
        return Options(*self.items, *items)

    def without(self, *names: str) -> Options:
        return Options(*(item for item in self.items if item.name not in names))

    def __iter__(self) -> Iterator[Option]:
        return iter(self.items)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> Option:
        return self._index[name]

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(item.name for item in self.items if item.secret)

    def resolve(self, owner: type, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Return every option's value for a storage of class ``owner`` built with ``kwargs``."""
        self.check_unknown(owner, kwargs)
        values: dict[str, Any] = {}
        for item in self.items:
            if item.name in kwargs and not item.setting_only:
                values[item.name] = kwargs[item.name]
            elif hasattr(owner, item.name):
                values[item.name] = getattr(owner, item.name)
            else:
                values[item.name] = item.from_settings()
        return values

    def check_construction(self, owner: type, values: Mapping[str, Any]) -> None:
        """Refuse what the table says is refused at construction: a missing value of an
        ``AT_CONSTRUCTION`` option, an option set without its ``together`` partners."""
        for item in self.items:
            if item.required == AT_CONSTRUCTION and not values.get(item.name):
                raise ImproperlyConfigured(
                    f"{owner.__name__}: {item.name} is required; set {self.where(item)}."
                )
            if item.together and bool(values.get(item.name)):
                for other in item.together:
                    if not values.get(other):
                        raise ImproperlyConfigured(
                            f"{owner.__name__}: {item.name} is set but {other} is not; set "
                            f"both or neither ({self.where(self[other])})."
                        )

    def missing_at_first_use(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The ``AT_FIRST_USE`` options without a value: the first operation refuses them."""
        return tuple(
            item.name
            for item in self.items
            if item.required == AT_FIRST_USE and not values.get(item.name)
        )

    @staticmethod
    def where(item: Option) -> str:
        """How a user sets ``item``: its Django setting, or its OPTIONS key."""
        if item.settings:
            return f"{item.settings[0]} or the {item.name} option"
        return f"the {item.name} option"

    def check_unknown(self, owner: type, kwargs: Iterable[str]) -> None:
        """Refuse options this table does not know, naming the closest valid one."""
        valid = [item.name for item in self.items if not item.setting_only]
        for key in kwargs:
            if key in valid:
                continue
            hint = self._suggest(key, valid)
            raise ImproperlyConfigured(
                f"Invalid setting {key!r} for {owner.__name__}."
                + (f" Did you mean {hint!r}?" if hint else "")
                + f" Valid options: {', '.join(sorted(valid))}."
            )

    def _suggest(self, key: str, valid: list[str]) -> str | None:
        # Users often put the Django setting name (AWS_STORAGE_BUCKET_NAME) in OPTIONS.
        for item in self.items:
            if key.upper() in item.settings and not item.setting_only:
                return item.name
        close = difflib.get_close_matches(key.lower(), valid, n=1, cutoff=0.6)
        return close[0] if close else None

    def markdown(self, describe: Callable[[Option], str] | None = None) -> str:
        """Return the README settings table for this options table."""
        lines = [
            "| option | Django setting | default | what it does |",
            "|---|---|---|---|",
        ]
        for item in self.items:
            name = "—" if item.setting_only else f"`{item.name}`"
            setting = " / ".join(f"`{s}`" for s in item.settings) or "—"
            if item.env:
                setting += " (env " + ", ".join(f"`{e}`" for e in item.env) + ")"
            default = item.doc_default or ("—" if item.default is None else f"`{item.default!r}`")
            doc = describe(item) if describe else item.doc
            lines.append(f"| {name} | {setting} | {default} | {doc} |")
        return "\n".join(lines) + "\n"
