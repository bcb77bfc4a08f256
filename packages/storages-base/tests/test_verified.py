"""VerifiedStream: the check every provider's download stream makes against the
checksum the server sent (each provider's own tests flip bytes through its server)."""

from __future__ import annotations

import hashlib
import io

import pytest

from storages_base import IntegrityError
from storages_base.verified import VerifiedStream


class _Bytes(VerifiedStream):
    """A download served from memory, in reads of at most ``step`` bytes."""

    algorithm = "MD5"

    def __init__(self, data: bytes, expected: str | None, size: int | None, step: int = 4):
        hasher = hashlib.md5(usedforsecurity=False)
        super().__init__(name="a.txt", backend="test", expected=expected, hasher=hasher, size=size)
        self._data = io.BytesIO(data)
        self._step = step
        self.released = 0

    def _fetch(self, size: int) -> bytes:
        return self._data.read(min(size, self._step))

    def _release(self) -> None:
        self.released += 1


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_the_bytes_that_match_their_checksum_are_read_whole() -> None:
    data = b"0123456789"
    assert io.BufferedReader(_Bytes(data, _md5(data), len(data))).read() == data


def test_the_read_that_completes_a_corrupted_body_raises_instead_of_returning_bytes() -> None:
    stream = _Bytes(b"0123456789", _md5(b"0123456780"), 10)
    buffer = bytearray(4)
    assert stream.readinto(buffer) == 4
    assert stream.readinto(buffer) == 4
    with pytest.raises(IntegrityError) as caught:
        stream.readinto(buffer)
    assert caught.value.backend == "test"
    assert caught.value.name == "a.txt"
    assert caught.value.operation == "read"
    assert "MD5 " + _md5(b"0123456789") in str(caught.value)


def test_a_corrupted_body_of_unknown_size_raises_at_its_end() -> None:
    stream = _Bytes(b"0123456789", _md5(b"x"), None)
    with pytest.raises(IntegrityError):
        io.BufferedReader(stream).read()


def test_a_body_that_ends_short_of_its_size_fails_the_check() -> None:
    stream = _Bytes(b"01234", _md5(b"0123456789"), 10)
    with pytest.raises(IntegrityError):
        io.BufferedReader(stream).read()


def test_without_an_expected_value_nothing_is_checked() -> None:
    assert io.BufferedReader(_Bytes(b"abc", None, 3)).read() == b"abc"


def test_a_stream_that_stops_checking_never_raises() -> None:
    stream = _Bytes(b"0123456789", _md5(b"other"), 10)
    stream.stop_checking()
    assert io.BufferedReader(stream).read() == b"0123456789"


def test_close_releases_the_download_once() -> None:
    stream = _Bytes(b"abc", None, 3)
    stream.close()
    stream.close()
    assert stream.released == 1
