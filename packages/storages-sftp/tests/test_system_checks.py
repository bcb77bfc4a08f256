"""SFTP's system checks (``manage.py check``): read from settings, no connection made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import override_settings

from storages_base.checks import check_storages

SFTP = "storages_sftp.SFTPStorage"


def messages(**storages: Any) -> list[Any]:
    with override_settings(STORAGES=storages):
        return check_storages()


def test_an_interactive_login_on_the_default_storage_is_warned_about() -> None:
    found = messages(
        default={"BACKEND": SFTP, "OPTIONS": {"host": "files.example.com", "interactive": True}}
    )

    assert [m.id for m in found] == ["storages_sftp.W001"]
    assert "the default storage (users' uploads)" in found[0].msg
    assert "SFTP_STORAGE_INTERACTIVE = False" in found[0].hint


def test_the_warning_names_the_setting_when_the_setting_turned_it_on() -> None:
    with override_settings(SFTP_STORAGE_INTERACTIVE=True, SFTP_STORAGE_HOST="files.example.com"):
        found = messages(default={"BACKEND": SFTP})

    assert "(SFTP_STORAGE_INTERACTIVE is True)" in found[0].msg


def test_an_interactive_storage_used_by_collectstatic_only_is_fine() -> None:
    found = messages(
        staticfiles={"BACKEND": SFTP, "OPTIONS": {"host": "files.example.com", "interactive": True}}
    )

    assert found == []


def test_a_missing_host_is_an_error_naming_the_setting() -> None:
    found = messages(default={"BACKEND": SFTP})

    assert [m.id for m in found] == ["storages_sftp.E001"]
    assert found[0].hint == "Set SFTP_STORAGE_HOST (or STORAGES['default']['OPTIONS']['host'])."


def test_a_sound_configuration_passes_without_connecting() -> None:
    assert messages(default={"BACKEND": SFTP, "OPTIONS": {"host": "203.0.113.9"}}) == []


# -- storages_check against OpenSSH's sshd ----------------------------------------------------


def storages_check(options: dict[str, Any]) -> tuple[str, int]:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from storages_base.management.commands import storages_check as command

    out = io.StringIO()
    with override_settings(STORAGES={"default": {"BACKEND": SFTP, "OPTIONS": options}}):
        try:
            call_command(command.Command(), stdout=out, no_color=True)
        except CommandError as exc:
            return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def sftp_options(sshd: dict[str, Any], root: Path, **extra: Any) -> dict[str, Any]:
    return {
        "host": sshd["host"],
        "params": {
            "port": sshd["port"],
            "username": sshd["username"],
            "key_filename": sshd["key_filename"],
            "look_for_keys": False,
            "allow_agent": False,
            "timeout": 10,
        },
        "known_host_file": sshd["known_host_file"],
        "root_path": f"{root}/",
        **extra,
    }


def test_storages_check_passes_on_a_working_server(sshd: dict[str, Any], root: Path) -> None:
    output, status = storages_check(sftp_options(sshd, root))

    assert status == 0, output
    assert "default  storages_sftp.storage.SFTPStorage" in output


def test_storages_check_says_how_to_trust_an_unknown_host_key(
    sshd: dict[str, Any], root: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")

    output, status = storages_check(sftp_options(sshd, root, known_host_file=str(empty)))

    assert status == 1
    assert f"add its host key to {empty} (SFTP_KNOWN_HOST_FILE)" in output


def test_storages_check_says_a_refused_login_is_the_credentials(
    sshd: dict[str, Any], root: Path, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = tmp_path / "stranger_key"
    stranger.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    stranger.chmod(0o600)
    options = sftp_options(sshd, root)
    options["params"]["key_filename"] = str(stranger)

    output, status = storages_check(options)

    assert status == 1
    assert "The server refused the login" in output
