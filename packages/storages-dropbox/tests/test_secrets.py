"""Secrets (issue 16, check 4): OAuth tokens and the app secret never leak."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.core.files.base import ContentFile

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_dropbox import DropboxStorage
from storages_dropbox.testing import DropboxServer


def test_no_secret_leaks(
    server: DropboxServer, make_storage: Callable[..., DropboxStorage]
) -> None:
    token = server.issue_token()
    app_secret = secrets.token_urlsafe(15)
    refresh = server.register_app("leak-app", app_secret)
    wrong = {
        "access token (unknown)": "sl." + secrets.token_urlsafe(24),
        "app secret (wrong)": secrets.token_urlsafe(15),
    }
    scan = SecretScan(
        {"access token": token, "app secret": app_secret, "refresh token": refresh, **wrong}
    )
    with scan.logs():
        working = make_storage(oauth2_access_token=token, location="media")
        working.save("there.txt", ContentFile(b"x"))
        assert working.url("there.txt").startswith("https://")
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
        refreshing = make_storage(
            app_key="leak-app", app_secret=app_secret, oauth2_refresh_token=refresh
        )
        refreshing.save("refreshed.txt", ContentFile(b"x"))
        refreshing.delete("refreshed.txt")
        scan.error(lambda: refreshing.open("missing.txt"), FileNotFoundError)
        refused = [
            make_storage(oauth2_access_token=wrong["access token (unknown)"]),
            make_storage(
                app_key="leak-app",
                app_secret=wrong["app secret (wrong)"],
                oauth2_refresh_token=refresh,
            ),
            make_storage(
                oauth2_access_token=token, api_host=f"127.0.0.1:{free_port()}", max_retries=0
            ),
        ]
        for storage in refused:
            scan.error(lambda: storage.exists("a.txt"))  # noqa: B023
            scan.error(lambda: storage.save("a.txt", ContentFile(b"x")))  # noqa: B023
    for storage in (working, refreshing, *refused):
        scan.storage(storage)
    confirm("Dropbox", "4. Secrets", scan.figures())
