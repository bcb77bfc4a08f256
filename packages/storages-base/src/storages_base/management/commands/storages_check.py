"""``manage.py storages_check [ALIAS ...]``: a live round trip through each storage."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storages_base.management import known_aliases
from storages_base.probe import Probe, probe


class Command(BaseCommand):
    help = (
        "Save, read, list, fetch the URL of and delete a temporary file on each configured "
        "storage (default: every alias of STORAGES), timing each step; exit 1 on a failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("aliases", nargs="*", metavar="ALIAS", help="STORAGES aliases")
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="seconds to wait for a URL fetch"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        aliases: list[str] = options["aliases"]
        self.verbosity = int(options.get("verbosity", 1))
        chosen = known_aliases(aliases)
        failed = []
        for alias in chosen:
            report = probe(storages[alias], alias, timeout=options["timeout"])
            self._print(report)
            if not report.ok:
                failed.append(alias)
        if failed:
            raise CommandError(
                f"{len(failed)} storage(s) failed: {', '.join(failed)}.", returncode=1
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(chosen)} storage(s) work."))

    def _print(self, report: Probe) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"{report.alias}  {report.backend}"))
        width = max(len(step.name) for step in report.steps)
        for step in report.steps:
            if step.skipped:
                result = self.style.WARNING("skip")
            elif step.ok:
                result = self.style.SUCCESS("ok  ")
            else:
                result = self.style.ERROR("FAIL")
            text = (
                step.detail if step.error is None else f"{type(step.error).__name__}: {step.error}"
            )
            if step.error is None and len(text) > 100 and self.verbosity < 2:  # long URLs
                text = text[:99] + "…"
            self.stdout.write(
                f"  {step.name:<{width}}  {step.seconds * 1000:8.1f} ms  {result}  {text}"
            )
            if step.advice:
                self.stdout.write(f"  {'':<{width}}  {'':>11}  -> {step.advice}")
