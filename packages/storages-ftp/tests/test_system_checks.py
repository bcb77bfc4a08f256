"""FTP's system checks (``manage.py check``): read from settings, no connection made."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from storages_base.checks import check_storages

FTP = "storages_ftp.FTPStorage"


def test_a_missing_server_location_is_an_error_naming_the_setting() -> None:
    with override_settings(STORAGES={"default": {"BACKEND": FTP}}):
        found = check_storages()

    assert [m.id for m in found] == ["storages_ftp.E001"]
    assert found[0].hint == (
        "Set FTP_STORAGE_LOCATION (or STORAGES['default']['OPTIONS']['location'])."
    )


def test_a_server_location_passes_without_connecting() -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": FTP}},
        FTP_STORAGE_LOCATION="ftp://user:secret@203.0.113.9:21/media/",
    ):
        assert check_storages() == []


# -- storages_check against pyftpdlib ---------------------------------------------------------


def storages_check(location: str) -> tuple[str, int]:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from storages_base.management.commands import storages_check as command

    out = io.StringIO()
    with override_settings(
        STORAGES={"default": {"BACKEND": FTP, "OPTIONS": {"location": location}}}
    ):
        try:
            call_command(command.Command(), stdout=out, no_color=True)
        except CommandError as exc:
            return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def test_storages_check_passes_on_a_working_server(ftp_server: Any, root: str) -> None:
    output, status = storages_check(ftp_server.location(f"{root}/"))

    assert status == 0, output
    assert "default  storages_ftp.storage.FTPStorage" in output


def test_storages_check_says_a_refused_login_is_the_user_or_password(ftp_server: Any) -> None:
    output, status = storages_check(ftp_server.location("/", password="wrong"))

    assert status == 1
    assert "check the user and password in FTP_STORAGE_LOCATION" in output


def test_storages_check_says_the_user_may_not_write_there(ftp_server: Any) -> None:
    output, status = storages_check(ftp_server.location("/", user="reader"))

    assert status == 1
    assert "The FTP user may not save here" in output
