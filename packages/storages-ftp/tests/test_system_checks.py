"""FTP's system checks (``manage.py check``): read from settings, no connection made."""

from __future__ import annotations

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
