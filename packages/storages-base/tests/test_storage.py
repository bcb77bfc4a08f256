"""BaseStorage itself: configuration, the write it asks for, overwrite policy, identity."""

from __future__ import annotations

import io
import pickle
from datetime import datetime, timezone
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.migrations.serializer import serializer_factory
from django.test import override_settings

from storages_base import AlreadyExistsError, BaseStorage, Capabilities, Option, Stat, WriteRequest
from storages_base.memory import MemoryStorage


class Recording(MemoryStorage):
    """Keeps every WriteRequest it was asked to store (what a provider receives)."""

    options = MemoryStorage.options.extend(
        Option("password", "RECORDING_PASSWORD", "", "A secret.", secret=True)
    )

    def configure(self) -> None:
        super().configure()
        self.requests: list[WriteRequest] = []

    def _write(self, request: WriteRequest) -> None:
        self.requests.append(request)
        super()._write(request)


class NoConditional(Recording):
    capabilities: ClassVar[Capabilities] = Capabilities(conditional_create=False)


def test_a_location_starting_with_a_slash_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="must not start with '/'"):
        MemoryStorage(location="/media")


@pytest.mark.parametrize("location", ["..", "../sibling", "media/../../up", "nul\x00"])
def test_a_location_leaving_the_root_or_holding_control_characters_is_refused(
    location: str,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="must stay inside the root"):
        MemoryStorage(location=location)


def test_a_location_is_cleaned_of_double_and_trailing_slashes() -> None:
    assert MemoryStorage(location="media//uploads/").location == "media/uploads"


def test_a_write_request_carries_the_guessed_type_and_the_byte_size() -> None:
    storage = Recording(bucket="requests")
    storage.save("a/photo.jpg", ContentFile(b"12345"))
    request = storage.requests[-1]
    assert (request.key, request.content_type, request.size) == ("a/photo.jpg", "image/jpeg", 5)
    assert request.content_encoding is None
    assert request.exclusive is False  # file_overwrite is on by default


def test_a_write_request_of_text_has_no_size_in_characters() -> None:
    storage = Recording(bucket="requests")
    storage.save("t.txt", ContentFile("ünï"))
    assert storage.requests[-1].size is None
    assert storage.size("t.txt") == 5


def test_a_write_request_of_a_spooled_file_knows_its_size() -> None:
    storage = Recording(bucket="requests")
    with storage.open("w.bin", "wb") as file:
        file.write(b"x" * 1234)
    assert storage.requests[-1].size == 1234


def test_a_gzipped_write_request_has_an_encoding_and_no_size() -> None:
    storage = Recording(bucket="requests", gzip=True)
    storage.save("s.css", ContentFile(b"a{}" * 100))
    request = storage.requests[-1]
    assert (request.content_type, request.content_encoding, request.size) == (
        "text/css",
        "gzip",
        None,
    )


def test_get_write_parameters_can_set_the_type_and_pass_provider_parameters() -> None:
    class Parameters(Recording):
        def get_write_parameters(self, name: str, content: Any) -> dict[str, Any]:
            return {"content_type": "text/x-custom", "CacheControl": "max-age=60"}

    storage = Parameters(bucket="requests")
    storage.save("p.txt", ContentFile(b"x"))
    request = storage.requests[-1]
    assert request.content_type == "text/x-custom"
    assert request.parameters == {"CacheControl": "max-age=60"}


def test_an_uploaded_files_type_reaches_the_write_request() -> None:
    storage = Recording(bucket="requests")
    storage.save("u.bin", SimpleUploadedFile("u.bin", b"x", content_type="image/png"))
    assert storage.requests[-1].content_type == "image/png"


def test_a_no_overwrite_save_asks_for_an_exclusive_write_and_retries_on_a_clash() -> None:
    storage = Recording(bucket="retry", file_overwrite=False)
    storage.clear()
    storage.save("r.txt", ContentFile(b"1"))
    second = storage.save("r.txt", ContentFile(b"2"))
    assert second.startswith("r_")
    assert second.endswith(".txt")
    # No exists() loop: the second save tried "r.txt" exclusively, then a new name.
    assert [(r.key, r.exclusive) for r in storage.requests] == [
        ("r.txt", True),
        ("r.txt", True),
        (second, True),
    ]


def test_content_that_cannot_rewind_gets_a_free_name_checked_first() -> None:
    storage = Recording(bucket="oneway", file_overwrite=False)
    storage.clear()
    storage.save("o.txt", ContentFile(b"first"))

    class OneWay(io.BytesIO):
        def seekable(self) -> bool:
            return False

    second = storage.save("o.txt", File(OneWay(b"second")))
    assert second != "o.txt"
    assert storage.open("o.txt").read() == b"first"
    assert storage.open(second).read() == b"second"
    # exists() found the free name: the one-way content was sent once, to it.
    assert [r.key for r in storage.requests] == ["o.txt", second]


def test_without_a_conditional_create_the_free_name_comes_from_exists() -> None:
    storage = NoConditional(bucket="noconditional", file_overwrite=False)
    storage.clear()
    storage.save("n.txt", ContentFile(b"1"))
    second = storage.save("n.txt", ContentFile(b"2"))
    assert second != "n.txt"
    assert [r.key for r in storage.requests] == ["n.txt", second]


def test_x_mode_on_a_backend_without_conditional_create_refuses_at_open() -> None:
    storage = NoConditional(bucket="noconditional")
    storage.save("x.txt", ContentFile(b"kept"))
    with pytest.raises(FileExistsError):
        storage.open("x.txt", "xb")
    assert storage.open("x.txt").read() == b"kept"


def test_names_are_truncated_to_the_backends_key_length_minus_the_location() -> None:
    class Short(MemoryStorage):
        max_key_length = 30

    storage = Short(bucket="short", location="media")  # leaves 24 characters
    name = storage.save("docs/" + "n" * 40 + ".txt", ContentFile(b"x"))
    assert name == "docs/" + "n" * 15 + ".txt"
    assert len("media/" + name) == 30


def test_a_name_that_cannot_be_truncated_enough_is_refused() -> None:
    class Short(MemoryStorage):
        max_key_length = 20

    with pytest.raises(SuspiciousFileOperation):
        Short(bucket="short").save("a-very-long-folder-name/x.txt", ContentFile(b"x"))


def test_delete_without_a_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="must be given"):
        MemoryStorage().delete("")


def test_a_time_the_backend_does_not_record_raises_not_implemented() -> None:
    class NoTimes(MemoryStorage):
        def _stat(self, key: str) -> Stat:
            return Stat(size=1)

    storage = NoTimes(bucket="notimes")
    with pytest.raises(NotImplementedError, match="does not record created times"):
        storage.get_created_time("x")


def test_a_naive_backend_time_is_taken_as_utc() -> None:
    class Naive(MemoryStorage):
        def _stat(self, key: str) -> Stat:
            return Stat(size=1, modified=datetime(2024, 1, 2, 3, 4, 5))

    with override_settings(USE_TZ=True):
        value = Naive(bucket="naive").get_modified_time("x")
    assert value == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with override_settings(USE_TZ=False, TIME_ZONE="Europe/Paris"):
        assert Naive(bucket="naive").get_modified_time("x") == datetime(2024, 1, 2, 4, 4, 5)


# -- identity: repr, deconstruct, pickling -------------------------------------------------


def test_repr_shows_options_and_masks_secrets() -> None:
    storage = Recording(bucket="ident", location="media", password="hunter2-secret")
    text = repr(storage)
    assert text.startswith("Recording(location='media', file_overwrite=True")
    assert "password=***" in text
    assert "hunter2" not in text


def test_repr_shows_an_empty_secret_as_empty() -> None:
    assert "password=''" in repr(Recording(bucket="ident"))


def test_deconstruct_keeps_the_options_given_but_not_the_secrets() -> None:
    storage = Recording(bucket="ident", location="media", password="hunter2-secret")
    path, args, kwargs = storage.deconstruct()
    assert path == f"{__name__}.Recording"
    assert args == ()
    assert kwargs == {"bucket": "ident", "location": "media"}


def test_a_migration_serialises_the_storage_without_its_secrets() -> None:
    storage = Recording(bucket="ident", password="hunter2-secret")
    text, imports = serializer_factory(storage).serialize()
    assert "hunter2" not in text
    assert "Recording(bucket='ident')" in text
    assert f"import {__name__}" in imports


def test_deconstruct_of_a_subclass_names_the_subclass() -> None:
    class Media(MemoryStorage):
        pass

    path, _, _ = Media(bucket="x").deconstruct()
    assert path.endswith(".Media")


def test_a_pickled_storage_keeps_its_options_and_files() -> None:
    storage = Recording(bucket="pickled", location="m", password="s3cret-value")
    storage.save("p.txt", ContentFile(b"kept"))
    copy = pickle.loads(pickle.dumps(storage))
    assert (copy.location, copy.password) == ("m", "s3cret-value")
    assert copy.open("p.txt").read() == b"kept"
    assert copy.deconstruct() == storage.deconstruct()


class CountingChecks(Recording):
    """Counts the existence checks (``_stat`` and ``_exists`` requests on a server)."""

    def configure(self) -> None:
        super().configure()
        self.checks = 0

    def _stat(self, key: str) -> Stat:
        self.checks += 1
        return super()._stat(key)


def test_a_no_overwrite_save_with_a_conditional_create_checks_nothing_first() -> None:
    storage = CountingChecks(bucket="counting", file_overwrite=False)
    storage.clear()
    storage.save("c.txt", ContentFile(b"1"))
    storage.save("c.txt", ContentFile(b"2"))
    assert storage.checks == 0  # the exclusive write found the clash
    assert storage.get_available_name("c.txt") != "c.txt"  # the public method checks
    assert storage.checks >= 2


def test_a_subclass_that_keeps_a_taken_name_never_overwrites_without_file_overwrite() -> None:
    class KeepsName(Recording):
        def get_available_name(self, name: str, max_length: int | None = None) -> str:
            return name

    storage = KeepsName(bucket="keepsname", file_overwrite=False)
    storage.clear()
    storage.save("k.txt", ContentFile(b"first"))
    second = storage.save("k.txt", ContentFile(b"second"))
    assert second != "k.txt"
    assert storage.open("k.txt").read() == b"first"


def test_a_clash_retry_respects_the_fields_max_length() -> None:
    storage = Recording(bucket="maxlength", file_overwrite=False)
    storage.clear()
    name = "folder/" + "n" * 20 + ".txt"
    storage.save(name, ContentFile(b"1"), max_length=31)
    second = storage.save(name, ContentFile(b"2"), max_length=31)
    assert second != name
    assert len(second) <= 31
    assert second.startswith("folder/nnn")
    assert second.endswith(".txt")


def test_a_resent_write_is_recognised_by_its_token_only() -> None:
    storage = MemoryStorage(bucket="tokens", file_overwrite=False)
    storage.clear()
    request = WriteRequest(key="t.txt", content=io.BytesIO(b"x"), content_type="text/plain")
    request.exclusive = True
    storage._write(request)
    other = WriteRequest(key="t.txt", content=io.BytesIO(b"x"), content_type="text/plain")
    other.exclusive = True
    with pytest.raises(AlreadyExistsError) as caught:
        storage._write(other)
    assert storage._is_own_write(request, caught.value)
    assert not storage._is_own_write(other, caught.value)


class CountsAttempts(MemoryStorage):
    """A backend that counts its sends and keeps the base ``_is_own_write`` (read back)."""

    _is_own_write = BaseStorage._is_own_write

    def _write(self, request: WriteRequest) -> None:
        request.attempts += 1
        super()._write(request)


def test_the_default_own_write_check_needs_a_resend_and_the_same_bytes() -> None:
    storage = CountsAttempts(bucket="attempts", file_overwrite=False)
    storage.clear()
    storage.save("a.txt", ContentFile(b"same"))

    def request(data: bytes, attempts: int) -> WriteRequest:
        sent = WriteRequest(key="a.txt", content=io.BytesIO(data), content_type="text/plain")
        sent.exclusive, sent.attempts = True, attempts
        return sent

    error = AlreadyExistsError("File exists")
    assert storage._is_own_write(request(b"same", 2), error)
    assert not storage._is_own_write(request(b"same", 1), error)  # no resend: not ours
    assert not storage._is_own_write(request(b"other", 2), error)
