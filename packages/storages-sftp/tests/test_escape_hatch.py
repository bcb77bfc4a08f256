"""``storage.sftp``: django-storages' paramiko escape hatch, connected on first use."""

from __future__ import annotations

import pickle

import paramiko
from django.core.files.base import ContentFile


def test_sftp_is_a_paramiko_client_of_the_storage_server(storage_factory, root) -> None:
    storage = storage_factory()
    assert "_escape_hatch" not in vars(storage)  # nothing connected at construction
    storage.save("docs/a.txt", ContentFile(b"hello"))
    sftp = storage.sftp
    assert isinstance(sftp, paramiko.SFTPClient)
    assert sftp is storage.sftp  # one connection, kept
    with sftp.open(str(root / "docs" / "a.txt")) as remote:
        assert remote.read() == b"hello"


def test_sftp_reconnects_after_close_and_the_storage_still_pickles(storage_factory, root) -> None:
    storage = storage_factory()
    first = storage.sftp
    storage.close()
    assert first.get_channel() is None or first.get_channel().closed
    assert storage.sftp is not first
    assert storage.sftp.listdir(str(root)) == []
    copy = pickle.loads(pickle.dumps(storage))
    assert "_escape_hatch" not in vars(copy)
    copy.close()
    storage.close()
