"""Migrations that can write a storage's SDK option values (botocore's ``Config``...).

``FileField(storage=...)`` is written into a migration with the storage's constructor
arguments. An SDK object among them (``client_config=Config(...)``, which a setting's
OPTIONS may hold) made ``makemigrations`` fail with "Cannot serialize". A backend names
the types it can rebuild (``BaseStorage.rebuilt_in_migrations``: the type's dotted name ->
a function giving the path and keyword arguments that make an equal object), and
``deconstruct()`` registers a serializer for each such value it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: A type's dotted name -> the (path, kwargs) that rebuild a value of it.
Rebuilders = Mapping[str, Callable[[Any], tuple[str, dict[str, Any]]]]


def type_path(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def register(values: Iterable[Any], rebuilders: Rebuilders) -> None:
    """Teach Django's migration writer the types of ``values`` that ``rebuilders`` knows."""
    found = [value for value in values if type_path(value) in rebuilders]
    if not found:
        return
    # Imported here: only ``makemigrations`` (and tests) deconstruct a storage.
    from django.db.migrations.serializer import BaseSerializer
    from django.db.migrations.writer import MigrationWriter

    for value in found:
        rebuild = rebuilders[type_path(value)]

        class Rebuilt(BaseSerializer):
            def serialize(self, rebuild: Any = rebuild) -> tuple[str, set[str]]:
                return call(*rebuild(self.value))

        MigrationWriter.register_serializer(type(value), Rebuilt)


def call(path: str, kwargs: dict[str, Any]) -> tuple[str, set[str]]:
    """``path(**kwargs)`` as migration source, and the imports it needs.

    Written here rather than through Django's serializer of deconstructed objects, whose
    name changed in Django 6.1 (``DeconstructableSerializer`` before).
    """
    from django.db.migrations.serializer import serializer_factory

    module = path.rpartition(".")[0]
    imports, arguments = {f"import {module}"}, []
    for name, value in sorted(kwargs.items()):
        text, needed = serializer_factory(value).serialize()
        imports |= needed
        arguments.append(f"{name}={text}")
    return f"{path}({', '.join(arguments)})", imports
