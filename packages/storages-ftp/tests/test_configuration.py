"""Settings and options: the location URL, overwrite mapping, secrets kept out of sight."""

import pickle

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from storages_ftp import FTPStorage
from storages_ftp.client import parse_location

SECRET = "s3cr&t:p@ss/w#rd?"
QUOTED = "s3cr%26t%3Ap%40ss%2Fw%23rd%3F"


def test_a_full_location_gives_host_port_user_password_and_root():
    loc = parse_location(f"ftp://alice:{QUOTED}@files.example:2121/srv/media")
    assert (loc.scheme, loc.host, loc.port, loc.user, loc.password, loc.path) == (
        "ftp",
        "files.example",
        2121,
        "alice",
        SECRET,
        "/srv/media",
    )
    assert loc.passive
    assert not loc.tls


def test_the_port_defaults_to_21_and_the_path_to_the_login_folder():
    loc = parse_location("ftp://alice:pw@files.example")
    assert (loc.port, loc.path) == (21, "")


def test_ftps_means_explicit_tls_and_aftp_means_active_mode():
    assert parse_location("ftps://a:b@h/").tls
    assert parse_location("FTPS://a:b@h/").tls
    active = parse_location("aftp://a:b@h:21/")
    assert not active.passive
    assert not active.tls


def test_a_location_without_a_user_logs_in_anonymously():
    assert parse_location("ftp://files.example/pub").user == "anonymous"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "needs a location"),
        (None, "needs a location"),
        ("http://alice:hunter2@h/", "must start with ftp://"),
        ("ftp://alice:hunter2@h:port/", "port must be a number"),
        ("ftp://alice:hunter2@h:99999/", "port must be a number"),
        ("ftp://alice:hunter2@/x", "names no host"),
        ("ftp://alice:hunt#er2@h/x", "quote special characters"),
    ],
)
def test_a_malformed_location_is_refused_without_showing_the_password(url, says):
    with pytest.raises(ImproperlyConfigured) as caught:
        FTPStorage(location=url)
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert "hunt" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_settings_of_django_storages_are_read_when_the_storage_is_built():
    with override_settings(
        FTP_STORAGE_LOCATION="ftps://bob:pw@h:990/media",
        BASE_URL="https://cdn.example/m/",
        FTP_STORAGE_ENCODING="utf-8",
        FTP_ALLOW_OVERWRITE=True,
    ):
        storage = FTPStorage()
    assert storage.server.tls
    assert storage.server.port == 990
    assert storage.base_url == "https://cdn.example/m/"
    assert storage.encoding == "utf-8"
    assert storage.allow_overwrite is True
    assert storage.file_overwrite is True


def test_defaults_follow_django_storages():
    with override_settings(FTP_STORAGE_LOCATION="ftp://a:b@h/", MEDIA_URL="/uploads/"):
        storage = FTPStorage()
    assert storage.base_url == "/uploads/"
    assert storage.encoding == "iso8859-1"  # latin-1, by its codec name
    assert storage.file_overwrite is False


def test_file_overwrite_is_an_alias_of_allow_overwrite_that_wins():
    storage = FTPStorage(location="ftp://a:b@h/", allow_overwrite=False, file_overwrite=True)
    assert storage.file_overwrite is True
    assert storage.allow_overwrite is True


def test_an_unknown_option_names_the_closest_valid_one():
    with pytest.raises(ImproperlyConfigured, match="allow_overwrite"):
        FTPStorage(location="ftp://a:b@h/", allow_overwrites=True)
    with pytest.raises(ImproperlyConfigured, match="'location'"):
        FTPStorage(FTP_STORAGE_LOCATION="ftp://a:b@h/")


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not an encoding"):
        FTPStorage(location="ftp://a:b@h/", encoding="klingon")


def test_repr_deconstruct_and_pickles_never_show_the_password():
    storage = FTPStorage(location=f"ftp://alice:{QUOTED}@h/", base_url="/m/")
    assert QUOTED not in repr(storage)
    assert SECRET not in repr(storage)
    assert "location=***" in repr(storage)
    _path, _args, kwargs = storage.deconstruct()
    assert kwargs == {"base_url": "/m/"}
    assert storage.server.password == SECRET
    assert SECRET not in repr(storage.server)
    assert str(storage.server) == "ftp://alice@h:21/"


def test_a_storage_pickles_without_its_sessions_and_builds_no_connection_to_do_so():
    storage = FTPStorage(location="ftp://a:b@127.0.0.1:1/")
    copy = pickle.loads(pickle.dumps(storage))
    assert copy.server == storage.server
    assert "client" not in copy.__dict__


def test_the_readme_settings_table_is_the_options_table():
    from pathlib import Path

    from storages_base.testing.readme import check_settings_table
    from storages_ftp.options import FTP_OPTIONS

    check_settings_table(Path(__file__).parents[1] / "README.md", FTP_OPTIONS, "FTPStorage")
