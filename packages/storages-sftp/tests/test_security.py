"""Host keys are checked, and names never leave the root: checked on the server's disk."""

from __future__ import annotations

import os
import time

import paramiko
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile

from storages_sftp import HostKeyError
from storages_sftp.testing import encrypt_key, write_ed25519_key

from .conftest import params_for


def test_an_unknown_host_key_is_rejected_with_instructions(storage_factory, tmp_path, sshd):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    storage = storage_factory(known_host_file=str(empty))
    with pytest.raises(HostKeyError) as info:
        storage.exists("anything")
    message = str(info.value)
    assert "unknown ssh-ed25519 host key (SHA256:" in message
    assert f"ssh-keyscan -p {sshd['port']} 127.0.0.1 >> {empty}" in message
    assert "SFTP_KNOWN_HOST_FILE" in message
    assert "SFTP_STORAGE_HOST_KEY_POLICY = 'auto_add'" in message
    assert isinstance(info.value, PermissionError)


def test_without_a_known_hosts_file_the_users_own_is_used(
    storage_factory, tmp_path, monkeypatch, sshd
):
    monkeypatch.setenv("HOME", str(tmp_path))
    storage = storage_factory(known_host_file=None)
    with pytest.raises(HostKeyError, match=r"~/.ssh/known_hosts"):
        storage.exists("anything")
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "known_hosts").write_text(
        f"[127.0.0.1]:{sshd['port']} {sshd['host_public']}\n"
    )
    assert storage_factory(known_host_file=None).exists("anything") is False


def test_a_host_key_listed_in_the_known_hosts_file_is_accepted(storage):
    storage.save("ok.txt", ContentFile(b"x"))
    assert storage.exists("ok.txt")


def test_auto_add_trusts_on_first_use_and_records_the_key(storage_factory, tmp_path, sshd):
    known = tmp_path / "known_hosts"
    known.write_text("")
    storage = storage_factory(known_host_file=str(known), host_key_policy="auto_add")
    assert storage.exists("anything") is False
    assert sshd["host_public"].split()[1] in known.read_text()


def test_the_warning_policy_connects_to_an_unknown_host_with_a_warning(storage_factory, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    storage = storage_factory(known_host_file=str(known), host_key_policy="warning")
    with pytest.warns(UserWarning, match="Unknown ssh-ed25519 host key"):
        assert storage.exists("x") is False
    assert known.read_text() == ""  # nothing recorded


def test_a_changed_host_key_is_refused_even_with_auto_add(storage_factory, tmp_path, sshd):
    other = write_ed25519_key(tmp_path / "other_key")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd['port']} {other}\n")
    storage = storage_factory(known_host_file=str(known), host_key_policy="auto_add")
    with pytest.raises(HostKeyError, match="differs from the one in the known_hosts"):
        storage.exists("anything")


def test_a_paramiko_policy_can_be_given(storage_factory, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    storage = storage_factory(known_host_file=str(known), host_key_policy=paramiko.AutoAddPolicy)
    assert storage.exists("anything") is False


def test_an_unknown_policy_name_is_a_configuration_error(storage_factory):
    with pytest.raises(ImproperlyConfigured, match="host_key_policy 'yes'"):
        storage_factory(host_key_policy="yes")


def test_a_missing_known_hosts_file_is_a_configuration_error(storage_factory, tmp_path):
    storage = storage_factory(known_host_file=str(tmp_path / "nope"))
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        storage.exists("x")


def test_a_wrong_client_key_is_permission_denied_not_retried(storage_factory, sshd, tmp_path):
    write_ed25519_key(tmp_path / "stranger")
    params = params_for(sshd, key_filename=str(tmp_path / "stranger"))
    storage = storage_factory(params=params)
    with pytest.raises(PermissionError, match="SSH authentication failed"):
        storage.exists("x")


def test_a_wrong_key_passphrase_is_permission_denied_not_retried(
    storage_factory, sshd, tmp_path, caplog
):
    encrypted = encrypt_key(sshd["key_filename"], tmp_path / "encrypted_key", "the right one")
    params = params_for(sshd, key_filename=str(encrypted), passphrase="a wrong one")
    storage = storage_factory(params=params)
    started = time.monotonic()
    with pytest.raises(PermissionError, match=r"SSH authentication failed: .*passphrase"):
        storage.exists("x")
    assert time.monotonic() - started < 5  # no retries with backoff
    good = storage_factory(params={**params, "passphrase": "the right one"})
    assert good.exists("x") is False


@pytest.mark.parametrize(
    "name", ["../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "..\\escape.txt"]
)
def test_names_cannot_leave_the_root(storage, root, name):
    with pytest.raises(SuspiciousFileOperation):
        storage.save(name, ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        storage.open(name)
    with pytest.raises(SuspiciousFileOperation):
        storage.delete(name)
    assert not (root.parent / "escape.txt").exists()
    assert os.listdir(root.parent) == ["root"]


def test_a_symlink_in_the_root_leading_out_is_not_followed_for_writes(storage, root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(SuspiciousFileOperation, match="outside the storage root"):
        storage.save("link/evil.txt", ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        storage.save("link/deeper/evil.txt", ContentFile(b"x"))
    assert os.listdir(outside) == []


def test_a_symlinked_file_is_replaced_not_written_through(storage_factory, root, tmp_path):
    target = tmp_path / "target.txt"
    target.write_bytes(b"precious")
    (root / "f.txt").symlink_to(target)
    storage_factory(file_overwrite=True).save("f.txt", ContentFile(b"new"))
    assert target.read_bytes() == b"precious"
    assert (root / "f.txt").read_bytes() == b"new"
    assert not (root / "f.txt").is_symlink()


def test_a_symlinked_root_is_fine(storage_factory, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    storage = storage_factory(root_path=str(tmp_path / "alias"))
    storage.save("d/f.txt", ContentFile(b"x"))
    assert (real / "d" / "f.txt").read_bytes() == b"x"


def test_params_never_appear_in_repr_or_deconstruct(storage_factory):
    storage = storage_factory(params={"password": "hunter2", "port": 22})
    assert "hunter2" not in repr(storage)
    assert "params=***" in repr(storage)
    assert "hunter2" not in str(storage.deconstruct())
    assert "hunter2" not in repr(storage.sessions.settings)


def test_interactive_asks_for_a_password_once_when_keys_fail(
    storage_factory, sshd, tmp_path, monkeypatch
):
    # getpass reads the terminal, which a test has not: answer it. The server refuses
    # passwords, so the second login fails too, and the error is not retried.
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "pw")
    write_ed25519_key(tmp_path / "stranger")
    params = params_for(sshd, key_filename=str(tmp_path / "stranger"))
    storage = storage_factory(params=params, interactive=True)
    with pytest.raises(PermissionError):
        storage.exists("x")
    assert asked == [f"Password for {sshd['username']}@127.0.0.1: "]
    assert "password" not in params  # the user's settings are not modified


def test_without_interactive_no_password_is_asked(storage_factory, sshd, tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("asked a password"))
    write_ed25519_key(tmp_path / "stranger")
    params = {**_params(sshd), "key_filename": str(tmp_path / "stranger")}
    with pytest.raises(PermissionError):
        storage_factory(params=params).exists("x")


def _params(sshd):
    return {
        "port": sshd["port"],
        "username": sshd["username"],
        "look_for_keys": False,
        "allow_agent": False,
    }
