"""System checks and ``storages_check`` diagnoses of Dropbox failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from storages_base.checks import check_storages
from storages_base.testing.django import run_storages_check
from storages_dropbox.testing import DropboxServer

from .conftest import server_options

DROPBOX = "storages_dropbox.DropboxStorage"


def run_check(options: dict[str, Any]) -> tuple[str, int]:
    with override_settings(STORAGES={"default": {"BACKEND": DROPBOX, "OPTIONS": options}}):
        return run_storages_check()


def ids(options: dict[str, Any]) -> list[str]:
    with override_settings(STORAGES={"default": {"BACKEND": DROPBOX, "OPTIONS": options}}):
        return [m.id for m in check_storages()]


def test_no_credentials_is_an_error_and_a_bare_token_a_warning() -> None:
    assert ids({}) == ["storages_dropbox.E001"]
    assert ids({"oauth2_access_token": "t"}) == ["storages_dropbox.W001"]
    triple = {"app_key": "k", "app_secret": "s", "oauth2_refresh_token": "r"}
    assert ids(triple) == []
    assert "storages.E002" in ids({"root_path": "media", "oauth2_access_token": "t"})


def test_storages_check_passes_on_a_working_dropbox(
    server: DropboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", server.ca_path)  # the check fetches the link
    output, code = run_check(
        {**server_options(server), "oauth2_access_token": server.issue_token()}
    )
    assert code == 0, output


def test_an_expired_token_is_diagnosed_with_the_refresh_settings(server: DropboxServer) -> None:
    token = server.issue_token(life=-1)
    output, code = run_check({**server_options(server), "oauth2_access_token": token})
    assert code != 0
    assert "DROPBOX_OAUTH2_REFRESH_TOKEN" in output
    assert token not in output


def test_a_missing_scope_is_diagnosed(server: DropboxServer) -> None:
    token = server.issue_token(scopes={"files.metadata.read", "files.content.read"})
    output, code = run_check({**server_options(server), "oauth2_access_token": token})
    assert code != 0
    assert "files.content.write" in output
    assert "Permissions tab" in output
