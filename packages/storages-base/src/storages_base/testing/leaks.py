"""Secrets (issue 16, check 4): where a credential could leak, scanned for it.

A provider's test builds its storage with generated secret values, then hands each place
a user or a log collector sees to a :class:`SecretScan`: ``repr()``/``str()`` of the
storage, ``deconstruct()`` and its rendering by Django's migration writer, the messages
of the exceptions failing operations raise (with their chained causes, as a traceback
shows them) and every log record emitted meanwhile (all loggers, at DEBUG).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

__all__ = ["SecretScan"]


def needles(secret: str | bytes) -> set[str]:
    """The forms of ``secret`` a leak could take: whole, URL-quoted, and a middle slice
    (a truncated or wrapped rendering still shows one)."""
    text = secret.decode() if isinstance(secret, bytes) else secret
    forms = {text, quote(text, safe="")}
    if len(text) >= 24:
        middle = len(text) // 2
        forms.add(text[middle - 8 : middle + 8])
    return {form for form in forms if form}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class SecretScan:
    """Scan texts for ``secrets`` (name -> value); count what was scanned, per place."""

    def __init__(self, secrets: Mapping[str, str | bytes], own: tuple[str, ...] = ()) -> None:
        assert secrets, "nothing to look for"
        self.secrets = dict(secrets)
        # Loggers of the backend ("storages", "storages_s3"...): a secret there fails.
        # Other loggers (the SDK's, which the backend does not configure) are reported.
        self.own = ("storages", *own)
        self.foreign: dict[str, set[str]] = {}
        self._needles = {name: needles(value) for name, value in secrets.items()}
        self.errors = 0
        self.records = 0  # the backend's own: the SDKs' vary with their caches
        self.storages = 0

    def found(self, text: str) -> list[str]:
        """The names of the secrets ``text`` holds."""
        return [
            name for name, forms in self._needles.items() if any(form in text for form in forms)
        ]

    def scan(self, place: str, text: str) -> None:
        """Fail when ``text`` (seen at ``place``) holds any secret."""
        found = self.found(text)
        assert not found, f"secrets {found!r} found in {place}: {text!r}"

    def storage(self, storage: Any) -> None:
        """``repr()``, ``str()``, ``deconstruct()`` and the migration ``deconstruct()`` renders."""
        from django.db.migrations.writer import MigrationWriter

        self.scan("repr()", repr(storage))
        self.scan("str()", str(storage))
        deconstructed = storage.deconstruct()
        self.scan("deconstruct()", repr(deconstructed))
        rendered, _imports = MigrationWriter.serialize(storage)
        self.scan("a migration", rendered)
        self.storages += 1

    def error(self, operation: Callable[[], object], *expected: type[BaseException]) -> None:
        """Run ``operation``, which must fail (with ``expected``, when given): the message,
        the repr and the whole traceback (chained causes too) must not hold a secret."""
        try:
            operation()
        except Exception as error:
            if expected and not isinstance(error, expected):
                raise AssertionError(f"{type(error).__name__}: {error}") from error
            self.scan("an exception message", str(error))
            self.scan("an exception repr", repr(error))
            self.scan("a traceback", "".join(traceback.format_exception(error)))
            self.errors += 1
        else:
            raise AssertionError(f"{operation} did not fail")

    @contextmanager
    def logs(self) -> Iterator[None]:
        """Within the block, every logger records at DEBUG; the records are scanned at exit."""
        handler = _Records()
        manager = logging.Logger.manager
        loggers = [logging.getLogger()] + [
            logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
        ]
        levels = [(logger, logger.level, logger.disabled) for logger in loggers]
        root = logging.getLogger()
        root.addHandler(handler)
        detached = [logger for logger in loggers if not logger.propagate]
        for logger in detached:
            logger.addHandler(handler)
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
        try:
            yield
        finally:
            root.removeHandler(handler)
            for logger in detached:
                logger.removeHandler(handler)
            for logger, level, disabled in levels:
                logger.setLevel(level)
                logger.disabled = disabled
            # Loggers created during the block were left at their own level: still caught
            # through the root, which was at DEBUG.
        for record in handler.records:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += "".join(traceback.format_exception(record.exc_info[1]))
            if record.name.startswith(self.own):
                self.scan(f"a log record of {record.name}", text)
                self.records += 1
            else:
                for name in self.found(text):
                    self.foreign.setdefault(record.name.partition(".")[0], set()).add(name)

    def figures(self) -> str:
        """The RELIABILITY.md row: computed from what was scanned."""
        return (
            f"{len(self.secrets)} secrets x 5 places (repr, str, deconstruct+migration, "
            f"{self.errors} error messages, {self.records} log records of the backend; "
            "every logger at DEBUG) "
            f"in {self.storages} configurations: 0 found"
            + "".join(
                f"; {logger}'s own DEBUG records (not configured by the backend) show "
                + ", ".join(sorted(names))
                for logger, names in sorted(self.foreign.items())
            )
        )
