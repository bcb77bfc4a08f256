"""``manage.py storages_sweep [ALIAS ...]``: delete uploads a killed process left behind.

FTP and SFTP storages upload to a hidden temporary name and rename it into place; a
process killed mid-upload leaves that file (listings hide it). This finds and deletes
the ones left unchanged for a day (``--older-than``), which no live upload is writing.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storages_base.fileserver import FileServerStorage
from storages_base.management import known_aliases


class Command(BaseCommand):
    help = (
        "Delete the temporary files of uploads that never ended (a killed process) on each "
        "file-server storage (FTP, SFTP; default: every alias of STORAGES that has them)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("aliases", nargs="*", metavar="ALIAS", help="STORAGES aliases")
        parser.add_argument(
            "--older-than",
            type=float,
            default=24.0,
            metavar="HOURS",
            help="only files unchanged for this long (default 24: no live upload is that idle)",
        )
        parser.add_argument("--path", default="", help="the folder to search (default: all)")
        parser.add_argument("--dry-run", action="store_true", help="list them, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        aliases: list[str] = options["aliases"]
        if options["older_than"] < 0:
            raise CommandError("--older-than must not be negative.")
        chosen = {alias: storages[alias] for alias in known_aliases(aliases)}
        sweepable = {a: s for a, s in chosen.items() if isinstance(s, FileServerStorage)}
        refused = [alias for alias in aliases if alias not in sweepable]
        if refused:
            raise CommandError(
                f"{', '.join(refused)}: this backend leaves no temporary files to sweep."
            )
        done = "found" if options["dry_run"] else "deleted"
        for alias, storage in sweepable.items():
            names = storage.remove_abandoned_uploads(
                options["path"], options["older_than"] * 3600, dry_run=options["dry_run"]
            )
            for name in names:
                self.stdout.write(f"{alias}: {name}")
            self.stdout.write(f"{alias}: {len(names)} abandoned upload(s) {done}.")
        if not sweepable:
            self.stdout.write("No storage here leaves temporary files (FTP and SFTP do).")
