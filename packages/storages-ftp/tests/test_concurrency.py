"""Check 2 of RELIABILITY.md: one storage (one FTP connection pool) shared by 8 threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages_base.errors import TransientError
from storages_base.testing.cases.concurrency import ConcurrencyCases
from storages_ftp import FTPStorage
from storages_ftp.session import Session


class TestConcurrency(ConcurrencyCases):
    provider = "FTP"
    # FTP's rename replaces a file whole, but a read asks its size (MLST) and then RETRs:
    # an overwrite between the two makes the read raise TransientError (sizes differ).
    # Not yet answered by a retry, so shared names are read once the writers are done.
    atomic_overwrites = False

    @pytest.fixture
    def storage_factory(
        self, make_ftp: Callable[..., FTPStorage], ftp_server: Any, root: str
    ) -> Callable[..., FTPStorage]:
        self.home = None if ftp_server.home is None else ftp_server.home / root.strip("/")
        return make_ftp

    def server_listing(self, storage_factory: Any, folder: str) -> list[str]:
        """The files in ``folder`` on the server's disk (pyftpdlib serves a local folder)."""
        if self.home is None:
            return super().server_listing(storage_factory, folder)
        return sorted(path.name for path in (self.home / folder).iterdir() if path.is_file())


@pytest.mark.parametrize("longer", [True, False], ids=["longer", "shorter"])
def test_a_file_replaced_between_its_size_and_its_transfer_is_refused_not_cut(
    make_ftp: Callable[..., FTPStorage],
    folder: Any,
    monkeypatch: pytest.MonkeyPatch,
    longer: bool,
) -> None:
    """Another writer renames a new version into place after the read asked the size and
    before its RETR: the read raises; it never returns the new file cut to the old size."""
    storage = make_ftp()
    storage.save("doc.txt", ContentFile(b"old version " * 100))
    new = b"new, longer version " * 200 if longer else b"new"
    entry = Session.entry

    def entry_then_replaced(session: Session, path: str) -> Any:
        found = entry(session, path)
        (folder / "doc.txt").write_bytes(new)  # what a concurrent rename leaves
        return found

    monkeypatch.setattr(Session, "entry", entry_then_replaced)
    with (
        pytest.raises(TransientError, match="changed while it was read"),
        storage.open("doc.txt") as file,
    ):
        file.read()
    monkeypatch.undo()
    with storage.open("doc.txt") as file:
        assert file.read() == new  # the next read is whole
