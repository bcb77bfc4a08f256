"""SFTP's system checks (``manage.py check``): read from settings, no connection made."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from storages_base.checks import check_storages

SFTP = "storages_sftp.SFTPStorage"


def messages(**storages: Any) -> list[Any]:
    with override_settings(STORAGES=storages):
        return check_storages()


def test_an_interactive_login_on_the_default_storage_is_warned_about() -> None:
    found = messages(
        default={"BACKEND": SFTP, "OPTIONS": {"host": "files.example.com", "interactive": True}}
    )

    assert [m.id for m in found] == ["storages_sftp.W001"]
    assert "the default storage (users' uploads)" in found[0].msg
    assert "SFTP_STORAGE_INTERACTIVE = False" in found[0].hint


def test_the_warning_names_the_setting_when_the_setting_turned_it_on() -> None:
    with override_settings(SFTP_STORAGE_INTERACTIVE=True, SFTP_STORAGE_HOST="files.example.com"):
        found = messages(default={"BACKEND": SFTP})

    assert "(SFTP_STORAGE_INTERACTIVE is True)" in found[0].msg


def test_an_interactive_storage_used_by_collectstatic_only_is_fine() -> None:
    found = messages(
        staticfiles={"BACKEND": SFTP, "OPTIONS": {"host": "files.example.com", "interactive": True}}
    )

    assert found == []


def test_a_missing_host_is_an_error_naming_the_setting() -> None:
    found = messages(default={"BACKEND": SFTP})

    assert [m.id for m in found] == ["storages_sftp.E001"]
    assert found[0].hint == "Set SFTP_STORAGE_HOST (or STORAGES['default']['OPTIONS']['host'])."


def test_a_sound_configuration_passes_without_connecting() -> None:
    assert messages(default={"BACKEND": SFTP, "OPTIONS": {"host": "203.0.113.9"}}) == []
