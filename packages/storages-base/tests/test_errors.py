"""The common error vocabulary."""

from __future__ import annotations

import pickle

import pytest

from storages_base import (
    AlreadyExistsError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StorageError,
    TransientError,
)
from storages_base.errors import error_for_status, reraise_as, translating


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (NotFoundError, FileNotFoundError),
        (PermissionDeniedError, PermissionError),
        (AlreadyExistsError, FileExistsError),
        (TransientError, ConnectionError),
        (IntegrityError, ValueError),
    ],
)
def test_each_error_is_caught_by_the_builtin_a_caller_already_catches(
    error: type[StorageError], builtin: type[BaseException]
) -> None:
    with pytest.raises(builtin):
        raise error("boom", name="a.txt", operation="open", backend="s3")


def test_every_error_is_a_storage_error() -> None:
    for error in (
        NotFoundError,
        PermissionDeniedError,
        AlreadyExistsError,
        PreconditionFailedError,
        IntegrityError,
        TransientError,
    ):
        assert issubclass(error, StorageError)


def test_the_message_says_which_backend_operation_and_name() -> None:
    error = NotFoundError("No such file", name="docs/a.txt", operation="open", backend="s3")
    assert str(error) == "No such file (backend='s3', operation='open', name='docs/a.txt')"
    assert (error.name, error.operation, error.backend) == ("docs/a.txt", "open", "s3")


def test_a_message_without_context_stays_plain() -> None:
    assert str(StorageError("plain")) == "plain"


@pytest.mark.parametrize("error", [NotFoundError, PermissionDeniedError, TransientError])
def test_errors_pickle_with_their_context(error: type[StorageError]) -> None:
    original = error("gone", name="a.txt", operation="size", backend="ftp")
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is error
    assert (copy.message, copy.name, copy.operation, copy.backend) == (
        "gone",
        "a.txt",
        "size",
        "ftp",
    )
    assert str(copy) == str(original)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, PermissionDeniedError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, TransientError),
        (409, StorageError),
        (412, PreconditionFailedError),
        (429, TransientError),
        (500, TransientError),
        (503, TransientError),
        (400, StorageError),
        (None, StorageError),
    ],
)
def test_error_for_status_maps_http_statuses_by_cause(
    status: int | None, error: type[StorageError]
) -> None:
    assert error_for_status(status) is error


def test_a_create_only_write_refused_with_409_or_412_found_the_name_taken() -> None:
    assert error_for_status(409, exclusive=True) is AlreadyExistsError
    assert error_for_status(412, exclusive=True) is AlreadyExistsError
    assert error_for_status(404, exclusive=True) is NotFoundError
    codes = {"ConditionNotMet": PreconditionFailedError}
    assert error_for_status(400, code="ConditionNotMet", codes=codes) is PreconditionFailedError
    assert error_for_status(400, code="ConditionNotMet", codes=codes, exclusive=True) is (
        AlreadyExistsError
    )


def test_a_provider_code_says_what_the_status_does_not() -> None:
    codes = {"NoSuchBucket": StorageError, "SlowDown": TransientError}
    assert error_for_status(404, code="NoSuchBucket", codes=codes) is StorageError
    assert error_for_status(404, code="NoSuchKey", codes=codes) is NotFoundError
    assert error_for_status(400, code="SlowDown", codes=codes) is TransientError
    assert error_for_status(503, code=None, codes=codes) is TransientError


def test_translating_raises_the_translation_chained_and_passes_storage_errors() -> None:
    sdk_error = KeyError("gone")
    with pytest.raises(NotFoundError) as caught:  # noqa: SIM117 - the block is the subject
        with translating(KeyError, lambda exc: NotFoundError(f"missing: {exc}", name="x")):
            raise sdk_error
    assert caught.value.__cause__ is sdk_error
    assert str(caught.value) == "missing: 'gone' (name='x')"
    already = PermissionDeniedError("denied")
    with pytest.raises(PermissionDeniedError) as again:  # noqa: SIM117
        with translating(Exception, lambda exc: NotFoundError(str(exc))):
            raise already
    assert again.value is already


def test_reraise_as_chains_the_sdk_exception() -> None:
    sdk_error = KeyError("NoSuchKey")
    with pytest.raises(NotFoundError) as caught:  # noqa: SIM117 - the block is the subject
        with reraise_as(NotFoundError, KeyError, name="x", operation="open", backend="s3"):
            raise sdk_error
    assert caught.value.__cause__ is sdk_error
    assert caught.value.name == "x"


def test_reraise_as_leaves_storage_errors_and_other_exceptions_alone() -> None:
    already = PermissionDeniedError("denied")
    with pytest.raises(PermissionDeniedError) as caught:  # noqa: SIM117
        with reraise_as(NotFoundError, Exception):
            raise already
    assert caught.value is already
    with pytest.raises(ZeroDivisionError):  # noqa: SIM117
        with reraise_as(NotFoundError, KeyError):
            raise ZeroDivisionError
