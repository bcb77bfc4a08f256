"""The demo site end to end, without a browser: ``manage.py demo --check`` per storage.

``--check`` starts the site exactly as ``bash scripts/demo`` does, uploads a PNG
through Django, fetches it from the URL the gallery shows, uploads one straight to
the storage where the backend signs uploads, deletes both and sees them gone from
the page and the storage.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def provider(module: str, cls: str) -> bool:
    if importlib.util.find_spec(module) is None:
        return False
    return hasattr(importlib.import_module(module), cls)


def test_the_readme_command_checks_the_demo_on_embedded_s3(repo: Path) -> None:
    result = subprocess.run(
        ["bash", "scripts/demo", "--check", "--port", "0"],
        cwd=repo,
        env={**os.environ, "DEMO_STORAGE": "s3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo running at http://127.0.0.1:" in result.stdout
    assert "storage: S3 (moto) at http://127.0.0.1:" in result.stdout
    assert "upload a PNG straight to storage" in result.stdout
    assert "FAILED" not in result.stdout
    assert "Demo check passed." in result.stdout


def test_demo_smoke_env_var_runs_the_same_check(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--port", "0", DEMO_SMOKE="1", DEMO_STORAGE="memory")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "direct upload skipped" in result.stdout  # memory has no presigned uploads
    assert "Demo check passed." in result.stdout


def test_the_demo_runs_on_gcs_with_the_emulator_in_process(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--port", "0", DEMO_SMOKE="1", DEMO_STORAGE="gcs")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: Google Cloud Storage (gcp-storage-emulator)" in result.stdout
    assert "fetch it from the gallery's URL" in result.stdout
    assert "upload a PNG straight to storage" in result.stdout  # a V4 POST policy
    assert "FAILED" not in result.stdout
    assert "Demo check passed." in result.stdout


def test_the_demo_runs_on_dropbox_with_the_local_api_server(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--port", "0", DEMO_SMOKE="1", DEMO_STORAGE="dropbox")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: Dropbox (local Dropbox API server)" in result.stdout
    assert "Demo check passed." in result.stdout


def test_the_demo_runs_on_azure_with_azurite_it_starts(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--port", "0", DEMO_SMOKE="1", DEMO_STORAGE="azure")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: Azure Blob (Azurite)" in result.stdout
    assert "upload a PNG straight to storage" in result.stdout
    assert "Demo check passed." in result.stdout


@pytest.mark.skipif(
    not provider("storages_ftp", "FTPStorage"), reason="storages_ftp.FTPStorage not built yet"
)
def test_the_demo_runs_on_ftp_with_no_code_change(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--check", "--port", "0", DEMO_STORAGE="ftp")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: FTP (pyftpdlib) at 127.0.0.1:" in result.stdout
    assert "Demo check passed." in result.stdout


@pytest.mark.skipif(
    not provider("storages_sftp", "SFTPStorage"), reason="storages_sftp.SFTPStorage not built yet"
)
@pytest.mark.skipif(
    not Path(shutil.which("sshd") or "/usr/sbin/sshd").exists(),
    reason="OpenSSH's sshd is not installed (scripts/test installs it as root)",
)
def test_the_demo_runs_on_sftp_with_no_code_change(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--check", "--port", "0", DEMO_STORAGE="sftp")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: SFTP (OpenSSH sshd) at 127.0.0.1:" in result.stdout
    assert "Demo check passed." in result.stdout


def test_the_demo_runs_on_libcloud_local_with_no_code_change(manage: Callable[..., Any]) -> None:
    result = manage("demo", "--check", "--port", "0", DEMO_STORAGE="libcloud")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage: Apache Libcloud (LOCAL driver)" in result.stdout
    assert "Demo check passed." in result.stdout


def test_the_demo_passes_django_system_checks(manage: Callable[..., Any]) -> None:
    result = manage("check", DEMO_STORAGE="s3")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_real_bucket_without_a_name_fails_the_system_checks_with_the_setting_to_set(
    manage: Callable[..., Any],
) -> None:
    result = manage("check", DEMO_STORAGE="real")

    assert result.returncode != 0
    assert "storages_s3.E001" in result.stderr
    assert "AWS_STORAGE_BUCKET_NAME" in result.stderr


def test_real_mode_takes_the_providers_usual_settings_from_the_environment(
    manage: Callable[..., Any],
) -> None:
    result = manage(
        "check",
        DEMO_STORAGE="real",
        AWS_STORAGE_BUCKET_NAME="my-media",
        AWS_S3_CUSTOM_DOMAIN="cdn.example.com/",
    )

    assert result.returncode != 0
    assert "storages_s3.E002" in result.stderr  # the bucket is set; the domain's slash is not
    assert "storages_s3.E001" not in result.stderr


@pytest.mark.parametrize(
    ("kind", "backend", "fetched"),
    [
        ("s3", "storages_s3.storage.S3Storage", "HTTP 200"),
        ("gcs", "storages_gcs.storage.GoogleCloudStorage", "HTTP 200"),
        ("azure", "storages_azure.storage.AzureStorage", "HTTP 200"),
        ("dropbox", "storages_dropbox.storage.DropboxStorage", "HTTP 200"),
        ("ftp", "storages_ftp.storage.FTPStorage", "not an http(s) URL"),
        ("sftp", "storages_sftp.storage.SFTPStorage", "not an http(s) URL"),
        ("memory", "storages_base.memory.MemoryStorage", "not an http(s) URL"),
        ("libcloud", "storages_libcloud.storage.LibCloudStorage", "not an http(s) URL"),
    ],
)
def test_storages_check_passes_on_each_of_the_demos_storages(
    manage: Callable[..., Any], kind: str, backend: str, fetched: str
) -> None:
    module = backend.rsplit(".", 2)[0] if kind != "memory" else "storages_base.memory"
    if not provider(module, backend.rsplit(".", 1)[1]):
        pytest.skip(f"{backend} is not built yet")
    if kind == "sftp" and not Path(shutil.which("sshd") or "/usr/sbin/sshd").exists():
        pytest.skip("OpenSSH's sshd is not installed (scripts/test installs it as root)")

    result = manage("storages_check", DEMO_STORAGE=kind)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"default  {backend}" in result.stdout
    assert fetched in next(line for line in result.stdout.splitlines() if "fetch url" in line)
    assert "All 2 storage(s) work." in result.stdout


def test_an_unknown_storage_kind_is_refused_with_the_choices(manage: Callable[..., Any]) -> None:
    result = manage("check", DEMO_STORAGE="tape")

    assert result.returncode != 0
    assert "choose one of s3, ftp, sftp, memory, real" in result.stderr
