"""Options: the django-storages settings, the new ones, and the README table."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from storages_sftp import SFTPStorage
from storages_sftp.options import OPTIONS

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_settings_table_is_the_options_table():
    assert OPTIONS.markdown() in README.read_text()


def test_every_django_storages_setting_is_read():
    settings = {
        "SFTP_STORAGE_HOST": "files.example.com",
        "SFTP_STORAGE_ROOT": "/srv/media/",
        "SFTP_STORAGE_PARAMS": {"port": 2222, "username": "u"},
        "SFTP_STORAGE_INTERACTIVE": True,
        "SFTP_STORAGE_FILE_MODE": 0o640,
        "SFTP_STORAGE_DIR_MODE": 0o750,
        "SFTP_STORAGE_UID": 1000,
        "SFTP_STORAGE_GID": 1001,
        "SFTP_KNOWN_HOST_FILE": "/etc/known_hosts",
        "SFTP_BASE_URL": "https://media.example.com/",
    }
    with override_settings(**settings):
        storage = SFTPStorage()
    assert storage.host == "files.example.com"
    assert storage.root_path == "/srv/media/"
    assert storage.params == {"port": 2222, "username": "u"}
    assert storage.interactive is True
    assert (storage.file_mode, storage.dir_mode) == (0o640, 0o750)
    assert (storage.uid, storage.gid) == (1000, 1001)
    assert storage.known_host_file == "/etc/known_hosts"
    assert storage.url("a.txt") == "https://media.example.com/a.txt"
    assert storage.key_prefix == "srv/media"


def test_defaults_match_django_storages_except_the_safer_host_key_policy():
    with override_settings(SFTP_STORAGE_HOST="h"):
        storage = SFTPStorage()
    assert storage.root_path == ""
    assert storage.params == {}
    assert storage.interactive is False
    assert storage.file_mode is storage.dir_mode is storage.uid is storage.gid is None
    assert storage.known_host_file is None
    assert storage.base_url == "/media/"  # MEDIA_URL
    assert storage.file_overwrite is False
    assert storage.host_key_policy == "reject"


def test_options_win_over_subclass_attributes_which_win_over_settings():
    class Media(SFTPStorage):
        root_path = "/from/class/"

    with override_settings(SFTP_STORAGE_HOST="h", SFTP_STORAGE_ROOT="/from/settings/"):
        assert Media().root_path == "/from/class/"
        assert Media(root_path="/from/options/").root_path == "/from/options/"
        assert SFTPStorage().root_path == "/from/settings/"


def test_a_setting_name_in_options_is_refused_with_the_option_to_use():
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'root_path'"):
        SFTPStorage(host="h", SFTP_STORAGE_ROOT="/x/")


def test_a_hostname_in_params_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="hostname"):
        SFTPStorage(host="h", params={"hostname": "other"})


def test_no_base_url_means_no_urls():
    storage = SFTPStorage(host="h", base_url=None)
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storage.url("a.txt")


def test_building_a_storage_opens_no_connection():
    storage = SFTPStorage(host="sftp.example.invalid")  # would fail if contacted
    assert "sessions" not in storage.__dict__
    assert storage.url("a.txt") == "/media/a.txt"


def test_no_host_builds_and_the_first_operation_raises():
    """django-storages' timing: a model module with ``SFTPStorage()`` imports without
    SFTP settings; the first operation (and the system check) says what to set."""
    from django.core.files.base import ContentFile

    from storages_base.checks import check_storages

    with override_settings(SFTP_STORAGE_HOST=None):
        storage = SFTPStorage()
        for operation in (
            lambda: storage.exists("a.txt"),
            lambda: storage.save("a.txt", ContentFile(b"x")),
            lambda: storage.listdir(""),
        ):
            with pytest.raises(ImproperlyConfigured, match="no host: set SFTP_STORAGE_HOST"):
                operation()
        with override_settings(STORAGES={"default": {"BACKEND": "storages_sftp.SFTPStorage"}}):
            assert [m.id for m in check_storages()] == ["storages_sftp.E001"]
