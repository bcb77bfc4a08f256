"""Construction rules written once per option (``Option.required``, ``Option.together``)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_base import AT_CONSTRUCTION, AT_FIRST_USE, Option
from storages_base.checks import check_storages
from storages_base.memory import MemoryStorage


class Ruled(MemoryStorage):
    options = MemoryStorage.options.extend(
        Option("container", "RULED_CONTAINER", None, "For operations.", required=AT_FIRST_USE),
        Option("account", "RULED_ACCOUNT", "acct", "Needed to build.", required=AT_CONSTRUCTION),
        Option("key_id", "RULED_KEY_ID", None, "Pair, half 1.", together=("key",)),
        Option("key", "RULED_KEY", None, "Pair, half 2.", secret=True, together=("key_id",)),
    )


def test_an_option_required_at_first_use_lets_the_storage_build() -> None:
    storage = Ruled()  # a model module building FileField(storage=Ruled()) imports
    with pytest.raises(ImproperlyConfigured, match="no container: set RULED_CONTAINER"):
        storage.exists("a.txt")
    with pytest.raises(ImproperlyConfigured, match="no container"):
        storage.save("a.txt", ContentFile(b"x"))
    with pytest.raises(ImproperlyConfigured, match="no container"):
        storage.url("a.txt")
    with pytest.raises(ImproperlyConfigured, match="no container"):
        storage.listdir("")


def test_the_option_set_later_in_settings_is_used_by_a_new_storage() -> None:
    with override_settings(RULED_CONTAINER="box"):
        storage = Ruled()
    storage.save("a.txt", ContentFile(b"x"))
    assert storage.exists("a.txt")


def test_an_option_required_at_construction_refuses_to_build() -> None:
    with pytest.raises(ImproperlyConfigured, match="account is required; set RULED_ACCOUNT"):
        Ruled(account="")


@pytest.mark.parametrize(
    ("given", "missing"), [({"key_id": "K1"}, "key"), ({"key": "secret-pem"}, "key_id")]
)
def test_half_of_a_pair_is_refused_at_construction(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"is set but {missing} is not"):
        Ruled(container="box", **given)
    Ruled(container="box", key_id="K1", key="secret-pem")  # both: fine
    Ruled(container="box")  # neither: fine


def test_the_system_check_reports_a_missing_first_use_option() -> None:
    backend = f"{__name__}.Ruled"
    with override_settings(STORAGES={"default": {"BACKEND": backend}}):
        messages = check_storages()
    assert [m.id for m in messages] == ["storages.E003"]
    assert "has no container" in messages[0].msg
    assert "RULED_CONTAINER" in (messages[0].hint or "")
    with override_settings(
        STORAGES={"default": {"BACKEND": backend, "OPTIONS": {"container": "box"}}}
    ):
        assert check_storages() == []
