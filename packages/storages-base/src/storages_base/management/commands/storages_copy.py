"""``manage.py storages_copy SOURCE DEST``: copy every file between two configured storages."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat as _filesizeformat

from storages_base.copy import CopyPlan, CopyResult, copy_storage, walk
from storages_base.management import known_aliases


def filesizeformat(size: float) -> str:
    """Django's human size, with plain spaces (a terminal is not an HTML page)."""
    return str(_filesizeformat(size)).replace("\xa0", " ")


class Command(BaseCommand):
    help = (
        "Copy every file of the SOURCE storage alias to the DEST alias (aliases of STORAGES), "
        "streaming, a few files at a time; files already there (same size, and same MD5 "
        "where both sides know it) are skipped, so a copy can be resumed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="SOURCE", help="STORAGES alias to copy from")
        parser.add_argument("destination", metavar="DEST", help="STORAGES alias to copy to")
        parser.add_argument("--prefix", default="", help="copy only the files under this folder")
        parser.add_argument("--workers", type=int, default=4, help="files copied at once (4)")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be copied, copy nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        known_aliases([options["source"], options["destination"]])
        if options["source"] == options["destination"]:
            raise CommandError("SOURCE and DEST are the same storage.")
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        plan = CopyPlan(
            source=storages[options["source"]],
            destination=storages[options["destination"]],
            prefix=options["prefix"],
            workers=options["workers"],
            dry_run=options["dry_run"],
        )
        names = list(walk(plan.source, plan.prefix))
        self.stdout.write(
            f"{len(names)} file(s) in {options['source']}"
            + (f" under {plan.prefix!r}" if plan.prefix else "")
            + f" -> {options['destination']}"
            + (" (dry run)" if plan.dry_run else "")
        )
        bar = _ProgressBar(self, len(names), tty=self.stdout.isatty())
        result = copy_storage(plan, names, bar.update)
        bar.finish()
        self._summary(result)
        if result.failed:
            raise CommandError(f"{len(result.failed)} file(s) failed.", returncode=1)

    def _summary(self, result: CopyResult) -> None:
        for name, error in result.failed:
            self.stderr.write(f"failed: {name}: {type(error).__name__}: {error}")
        verb = "would copy" if result.dry_run else "copied"
        rate = result.bytes_copied / result.seconds if result.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(result.copied)}, skipped {len(result.skipped)} already there, "
                f"failed {len(result.failed)}; {filesizeformat(result.bytes_copied)} in "
                f"{result.seconds:.1f} s ({filesizeformat(rate)}/s)"
            )
        )


class _ProgressBar:
    """A one-line bar on a terminal; elsewhere one line per file at verbosity 2."""

    WIDTH = 30

    def __init__(self, command: BaseCommand, total: int, tty: bool) -> None:
        self.command = command
        self.total = total
        self.tty = tty
        self.done = 0
        self.size = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.verbose = int(getattr(command, "verbosity", 1)) >= 2  # set by handle()

    def update(self, name: str, action: str, size: int) -> None:
        with self.lock:
            self.done += 1
            self.size += size
            if self.tty:
                filled = self.WIDTH * self.done // max(self.total, 1)
                bar = "#" * filled + "-" * (self.WIDTH - filled)
                rate = self.size / max(time.monotonic() - self.started, 1e-6)
                self.command.stdout.write(
                    f"\r[{bar}] {self.done}/{self.total}  {filesizeformat(self.size)}"
                    f"  {filesizeformat(rate)}/s ",
                    ending="",
                )
                self.command.stdout.flush()
            elif self.verbose:
                self.command.stdout.write(f"{action}: {name}")

    def finish(self) -> None:
        if self.tty and self.total:
            self.command.stdout.write("")
