"""storages-compat: a django-storages project runs unchanged on the storages packages.

The project under ``compat_project`` has django-storages' settings, models and the
migration django-storages generated; it runs in a process of its own, as ``manage.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

HERE = Path(__file__).resolve().parent


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``django-admin`` of the compat project in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=HERE,
        env={
            **os.environ,
            "PYTHONPATH": str(HERE),
            "DJANGO_SETTINGS_MODULE": "compat_project.settings",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def python(code: str, *, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    paths = [str(path)] if path else []
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(HERE)])},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def project_env(moto_endpoint: str, tmp_path: Path) -> dict[str, str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for bucket in ("compat-media", "compat-photos"):
        s3.create_bucket(Bucket=bucket)
    return {"COMPAT_ENDPOINT": moto_endpoint, "COMPAT_DB": str(tmp_path / "db.sqlite3")}


def test_existing_migrations_apply_and_models_match_them(project_env: dict[str, str]) -> None:
    """The migration django-storages generated applies, and no new one is needed."""
    migrated = manage("migrate", "--no-input", env=project_env)
    assert migrated.returncode == 0, migrated.stderr
    assert "Applying gallery.0001_initial... OK" in migrated.stdout
    check = manage("makemigrations", "--check", "--dry-run", env=project_env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No changes detected" in check.stdout


def test_project_stores_files_through_its_classic_settings(
    project_env: dict[str, str], moto_endpoint: str
) -> None:
    """STORAGES naming storages.backends.* builds our classes with the AWS_* settings."""
    assert manage("migrate", "--no-input", env=project_env).returncode == 0
    code = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from compat_project.gallery.models import Photo
import storages_s3
assert type(storages["default"]) is storages_s3.S3Storage, type(storages["default"])
assert type(storages["staticfiles"]) is storages_s3.S3StaticStorage
photo = Photo(title="t")
photo.image.save("cat.txt", ContentFile(b"meow"), save=False)
photo.attachment.save("a.txt", ContentFile(b"one"), save=False)
second = default_storage.save("attachments/a.txt", ContentFile(b"two"))
photo.save()
print(photo.image.name, photo.attachment.name, second, sep="|")
"""
    result = manage("shell", "-c", code, env=project_env)
    assert result.returncode == 0, result.stderr
    image, attachment, second = result.stdout.strip().splitlines()[-1].split("|")
    assert image == "photos/cat.txt"
    assert attachment == "attachments/a.txt"
    assert second != attachment  # AWS_S3_FILE_OVERWRITE = False: a free name, no overwrite
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stored = s3.get_object(Bucket="compat-photos", Key="originals/photos/cat.txt")
    assert stored["Body"].read() == b"meow"
    kept = s3.get_object(Bucket="compat-media", Key="media/attachments/a.txt")
    assert kept["Body"].read() == b"one"
    assert kept["CacheControl"] == "max-age=86400"  # AWS_S3_OBJECT_PARAMETERS applied


def test_classic_names_are_our_classes() -> None:
    """Every django-storages name of a built provider is the provider's own object."""
    code = """
import storages_ftp, storages_s3, storages_sftp
from storages.backends import ftp, s3, s3boto3, sftpstorage
assert s3boto3.S3Boto3Storage is s3.S3Storage is storages_s3.S3Storage
assert s3boto3.S3StaticStorage is s3.S3StaticStorage is storages_s3.S3StaticStorage
assert s3boto3.S3ManifestStaticStorage is storages_s3.S3ManifestStaticStorage
assert s3boto3.S3Boto3StorageFile is s3.S3File is storages_s3.S3File
assert ftp.FTPStorage is storages_ftp.FTPStorage
assert ftp.FTPStorageFile is storages_ftp.FTPStorageFile
assert ftp.FTPStorageException is storages_ftp.FTPStorageException
assert sftpstorage.SFTPStorage is storages_sftp.SFTPStorage
assert sftpstorage.SFTPStorageFile is storages_sftp.SFTPStorageFile
from storages.backends.s3boto3 import *
assert S3Boto3Storage is storages_s3.S3Storage
from storages.utils import clean_name, safe_join, setting
assert clean_name("a//b/./c") == "a/b/c"
"""
    result = python(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("gcloud", ["GoogleCloudStorage", "GoogleCloudFile"]),
        ("azure_storage", ["AzureStorage", "AzureStorageFile"]),
        (
            "dropbox",
            [
                "DropboxStorage",
                "DropBoxStorage",
                "DropboxFile",
                "DropBoxFile",
                "DropboxStorageException",
                "DropBoxStorageException",
            ],
        ),
        ("apache_libcloud", ["LibCloudStorage", "LibCloudFile"]),
    ],
)
def test_every_module_names_every_class(module: str, names: list[str]) -> None:
    """Importing a module touches no provider; each name resolves or says what is missing."""
    code = f"""
import sys
import storages.backends.{module} as m
assert sorted(m.__all__) == sorted({names!r}), m.__all__
assert not [n for n in sys.modules if n.startswith("storages_") and n != "storages_base"]
for name in m.__all__:
    try:
        getattr(m, name)
    except ImportError as exc:
        assert "storages-" in str(exc), exc
"""
    result = python(code)
    assert result.returncode == 0, result.stderr


def test_module_imports_only_its_provider() -> None:
    code = """
import sys
from storages.backends.s3boto3 import S3Boto3Storage
loaded = {n.split(".")[0] for n in sys.modules if n.startswith("storages_")}
assert loaded == {"storages_s3", "storages_base"}, loaded
assert "paramiko" not in sys.modules
"""
    result = python(code)
    assert result.returncode == 0, result.stderr


def test_a_missing_provider_names_the_extra(tmp_path: Path) -> None:
    """Without storages-s3 installed, the error says which extra to install."""
    blocker = tmp_path / "storages_s3"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ModuleNotFoundError(name='storages_s3')\n")
    code = """
try:
    from storages.backends.s3boto3 import S3Boto3Storage
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("imported")
"""
    result = python(code, path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install 'storages-compat[s3]'" in result.stdout


def test_refused_next_to_django_storages(tmp_path: Path) -> None:
    """Both distributions write ``storages/``: importing ours next to it is refused."""
    info = tmp_path / "django_storages-1.14.6.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: django-storages\nVersion: 1.14.6\n"
    )
    result = python("import storages.backends.s3boto3", path=tmp_path)
    assert result.returncode != 0
    assert "storages-compat and django-storages 1.14.6 are both installed" in result.stderr
    assert "pip uninstall -y django-storages storages-compat" in result.stderr
