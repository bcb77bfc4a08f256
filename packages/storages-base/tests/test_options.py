"""The options table: resolution order, unknown options, README rendering."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage.handler import StorageHandler
from django.test import override_settings

from storages_base import BASE_OPTIONS, Option, Options
from storages_base.memory import MemoryStorage

TABLE = Options(
    Option(
        "bucket_name", "TEST_BUCKET_NAME", "default-bucket", "The bucket.", env=("TEST_BUCKET",)
    ),
    Option("access_key", ("TEST_S3_ACCESS_KEY", "TEST_ACCESS_KEY"), None, "Key.", secret=True),
    Option("buffer_size", "TEST_BUFFER_SIZE", 5, "Buffer.", setting_only=True),
    Option("media_url", None, lambda: "/computed/", "URL.", doc_default="`MEDIA_URL`"),
)


class Plain:
    pass


class Subclassed(Plain):
    bucket_name = "from-class"


def test_the_default_applies_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_BUCKET", raising=False)
    assert TABLE.resolve(Plain, {})["bucket_name"] == "default-bucket"


def test_an_environment_variable_beats_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BUCKET", "from-env")
    assert TABLE.resolve(Plain, {})["bucket_name"] == "from-env"


def test_an_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BUCKET", "")
    assert TABLE.resolve(Plain, {})["bucket_name"] == "default-bucket"


def test_a_django_setting_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BUCKET", "from-env")
    with override_settings(TEST_BUCKET_NAME="from-setting"):
        assert TABLE.resolve(Plain, {})["bucket_name"] == "from-setting"


def test_a_subclass_attribute_beats_the_setting() -> None:
    with override_settings(TEST_BUCKET_NAME="from-setting"):
        assert TABLE.resolve(Subclassed, {})["bucket_name"] == "from-class"


def test_an_options_kwarg_beats_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BUCKET", "from-env")
    with override_settings(TEST_BUCKET_NAME="from-setting"):
        values = TABLE.resolve(Subclassed, {"bucket_name": "from-kwarg"})
    assert values["bucket_name"] == "from-kwarg"


def test_the_first_defined_of_several_settings_wins() -> None:
    with override_settings(TEST_ACCESS_KEY="generic"):
        assert TABLE.resolve(Plain, {})["access_key"] == "generic"
        with override_settings(TEST_S3_ACCESS_KEY="specific"):
            assert TABLE.resolve(Plain, {})["access_key"] == "specific"


def test_a_setting_explicitly_set_to_none_is_respected() -> None:
    with override_settings(TEST_BUCKET_NAME=None):
        assert TABLE.resolve(Plain, {})["bucket_name"] is None


def test_a_callable_default_is_evaluated_when_the_storage_is_built() -> None:
    assert TABLE.resolve(Plain, {})["media_url"] == "/computed/"


def test_settings_are_read_when_the_storage_is_built_not_imported() -> None:
    with override_settings(MEDIA_URL="/first/"):
        first = MemoryStorage()
    with override_settings(MEDIA_URL="/second/"):
        second = MemoryStorage()
    assert (first.base_url, second.base_url) == ("/first/", "/second/")


def test_a_setting_only_option_comes_from_settings_but_not_from_options() -> None:
    with override_settings(TEST_BUFFER_SIZE=9):
        assert TABLE.resolve(Plain, {})["buffer_size"] == 9
    with pytest.raises(ImproperlyConfigured, match="'buffer_size'"):
        TABLE.resolve(Plain, {"buffer_size": 9})


def test_an_unknown_option_is_refused_naming_the_nearest_valid_one() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        TABLE.resolve(Plain, {"bucket_nme": "x"})
    message = str(caught.value)
    assert "Invalid setting 'bucket_nme' for Plain" in message
    assert "Did you mean 'bucket_name'?" in message


@pytest.mark.parametrize("key", ["TEST_BUCKET_NAME", "test_bucket_name"])
def test_a_django_setting_name_in_options_points_to_the_option(key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'bucket_name'"):
        TABLE.resolve(Plain, {key: "x"})


def test_an_unknown_option_far_from_any_lists_the_valid_ones() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        TABLE.resolve(Plain, {"zzzz": 1})
    assert "Did you mean" not in str(caught.value)
    assert "access_key, bucket_name, media_url" in str(caught.value)


def test_a_storage_built_from_the_storages_setting_gets_its_options() -> None:
    handler = StorageHandler(
        {
            "default": {
                "BACKEND": "storages_base.memory.MemoryStorage",
                "OPTIONS": {"location": "media", "file_overwrite": False},
            }
        }
    )
    storage = handler["default"]
    assert isinstance(storage, MemoryStorage)
    assert (storage.location, storage.file_overwrite) == ("media", False)


def test_a_typo_in_the_storages_options_fails_when_the_storage_is_built() -> None:
    handler = StorageHandler(
        {
            "default": {
                "BACKEND": "storages_base.memory.MemoryStorage",
                "OPTIONS": {"file_overwite": False},
            }
        }
    )
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'file_overwrite'"):
        handler["default"]


def test_a_subclass_attribute_configures_the_storage() -> None:
    class MediaStorage(MemoryStorage):
        location = "media"
        file_overwrite = False

    storage = MediaStorage()
    assert (storage.location, storage.file_overwrite) == ("media", False)
    assert MediaStorage(location="other").location == "other"


def test_extend_adds_options_and_replaces_same_named_ones() -> None:
    table = BASE_OPTIONS.extend(Option("location", "MY_LOCATION", "x", "Mine."), Option("y"))
    assert [item.name for item in table] == ["location", "file_overwrite", "max_memory_size", "y"]
    assert table["location"].settings == ("MY_LOCATION",)
    assert "y" in table
    assert "location" not in table.without("location")


def test_secret_names_lists_the_options_marked_secret() -> None:
    assert TABLE.secret_names == frozenset({"access_key"})


def test_markdown_renders_one_row_per_option() -> None:
    lines = TABLE.markdown().splitlines()
    assert lines[0] == "| option | Django setting | default | what it does |"
    assert lines[1] == "|---|---|---|---|"
    assert lines[2] == (
        "| `bucket_name` | `TEST_BUCKET_NAME` (env `TEST_BUCKET`) | `'default-bucket'` "
        "| The bucket. |"
    )
    assert lines[3] == "| `access_key` | `TEST_S3_ACCESS_KEY` / `TEST_ACCESS_KEY` | — | Key. |"
    assert lines[4] == "| — | `TEST_BUFFER_SIZE` | `5` | Buffer. |"
    assert lines[5] == "| `media_url` | — | `MEDIA_URL` | URL. |"
    assert len(lines) == 6


def test_markdown_can_describe_options_its_own_way() -> None:
    table = TABLE.markdown(describe=lambda item: item.name.upper())
    assert "| BUCKET_NAME |" in table
