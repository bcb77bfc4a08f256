"""The conformance suite on a local folder served over HTTP on loopback."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storages_base.testing import StorageContract

from .folder_storage import FolderStorage


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def folder_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("folder-storage")


@pytest.fixture(scope="module")
def http_base(folder_root: Path) -> Iterator[str]:
    """A static file server over ``folder_root``, as a web server would serve media."""
    handler = functools.partial(_QuietHandler, directory=str(folder_root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class TestFolderStorage(StorageContract):
    @pytest.fixture
    def storage_factory(self, folder_root: Path, http_base: str) -> Callable[..., FolderStorage]:
        def build(**options: Any) -> FolderStorage:
            defaults = {"root": str(folder_root), "base_url": http_base, "token": "t0ken-s3cret"}
            return FolderStorage(**{**defaults, **options})

        return build
