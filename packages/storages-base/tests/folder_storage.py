"""A local-folder reference backend: the conformance suite's proof on a real file system.

Small on purpose: it shows a third-party author what the hooks of ``BaseStorage``
need, including an atomic create-only write (a hard link, which fails if the name
exists) so that no-overwrite saves are race-free.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime, timezone
from typing import IO, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from storages_base import BASE_OPTIONS, AlreadyExistsError, BaseStorage, Capabilities, Option
from storages_base.files import Stat, copy_stream
from storages_base.storage import WriteRequest
from storages_base.urls import published_url

_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class FolderStorage(BaseStorage):
    backend_name = "folder"
    capabilities: ClassVar[Capabilities] = Capabilities(
        conditional_create=True, accessed_time=True, http_urls=True, empty_folders=True
    )
    options = BASE_OPTIONS.extend(
        Option("root", "FOLDER_STORAGE_ROOT", "", "The directory holding every file."),
        Option("base_url", "FOLDER_STORAGE_BASE_URL", "/media/", "URL of `root`."),
        Option("token", "FOLDER_STORAGE_TOKEN", "", "A secret, to prove none leaks.", secret=True),
    )
    root: str
    base_url: str

    def configure(self) -> None:
        super().configure()
        if not self.root or not os.path.isdir(self.root):
            raise ImproperlyConfigured(f"FolderStorage: root {self.root!r} is not a directory.")
        self._staging = os.path.join(self.root, ".staging")
        os.makedirs(self._staging, exist_ok=True)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.rstrip("/").split("/"))

    def _read(self, key: str, offset: int = 0) -> tuple[IO[bytes], Stat | None]:
        try:
            file = open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
            stat = _stat(os.fstat(file.fileno()))
        except _MISSING as exc:
            raise self._not_found(key, "open") from exc
        file.seek(offset)
        return file, stat

    def _write(self, request: WriteRequest) -> None:
        path = self._path(request.key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Written aside, then put in place whole: readers never see half a file.
        fd, staged = tempfile.mkstemp(dir=self._staging)
        try:
            with os.fdopen(fd, "wb") as out:
                copy_stream(request.content, out)
            if request.exclusive:
                os.link(staged, path)  # atomic, and fails if the name is taken
            else:
                os.replace(staged, path)
        except FileExistsError as exc:
            raise AlreadyExistsError(
                "File exists",
                name=self._name_for_key(request.key),
                operation="save",
                backend=self.backend_name,
            ) from exc
        finally:
            if os.path.exists(staged):
                os.unlink(staged)

    def _stat(self, key: str) -> Stat:
        try:
            result = os.stat(self._path(key))
        except _MISSING as exc:
            raise self._not_found(key, "stat") from exc
        if not os.path.isfile(self._path(key)):
            raise self._not_found(key, "stat")
        return _stat(result)

    def _delete(self, key: str) -> None:
        with contextlib.suppress(*_MISSING):
            os.remove(self._path(key))

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: list[str] = []
        files: list[str] = []
        try:
            entries = list(os.scandir(self._path(prefix) if prefix else self.root))
        except _MISSING:
            return [], []
        for entry in entries:
            if entry.path == self._staging:
                continue
            (folders if entry.is_dir() else files).append(entry.name)
        return folders, files

    def _object_url(self, key: str, *args: Any, **kwargs: Any) -> str:
        return published_url(self.base_url, key)


def _stat(result: os.stat_result) -> Stat:
    def when(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, timezone.utc)

    return Stat(size=result.st_size, modified=when(result.st_mtime), accessed=when(result.st_atime))
