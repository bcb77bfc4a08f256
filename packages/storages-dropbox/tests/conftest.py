from __future__ import annotations

from storages_base.testing import setup_django

setup_django()

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from storages_dropbox import DropboxStorage  # noqa: E402
from storages_dropbox.testing import DropboxServer  # noqa: E402


@pytest.fixture(scope="session")
def dropbox_server() -> Iterator[DropboxServer]:
    """One local Dropbox API server for the session (3 entries a listing page)."""
    with DropboxServer(page_size=3) as server:
        yield server


@pytest.fixture
def server(dropbox_server: DropboxServer) -> Iterator[DropboxServer]:
    """The shared server with its counters reset and no fault left set."""
    dropbox_server.reset_counts()
    dropbox_server.faults.clear()
    dropbox_server.clock_offset = 0.0
    yield dropbox_server
    dropbox_server.faults.clear()
    dropbox_server.clock_offset = 0.0


def server_options(server: DropboxServer) -> dict[str, Any]:
    """What points a storage at ``server``: its host and CA (no token)."""
    return {"api_host": server.host, "ca_bundle": server.ca_path, "max_retries": 2}


@pytest.fixture
def make_storage(server: DropboxServer) -> Callable[..., DropboxStorage]:
    """Build a storage against the server with a fresh access token unless given one."""

    def build(**options: Any) -> DropboxStorage:
        if not {"oauth2_access_token", "oauth2_refresh_token"} & set(options):
            options["oauth2_access_token"] = server.issue_token()
        return DropboxStorage(**{**server_options(server), **options})

    return build
