"""Static files: Django's real collectstatic into S3ManifestStaticStorage, on moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles.management.commands.collectstatic import Command
from django.core.management import call_command
from django.test import override_settings

from storages_s3 import S3ManifestStaticStorage

from .conftest import S3Server


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "img").mkdir()
    (tmp_path / "css" / "app.css").write_text('body { background: url("../img/bg.png"); }\n')
    (tmp_path / "img" / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("console.log('hi');\n" * 50)
    return tmp_path


def collectstatic(options: dict[str, Any], static_dir: Path) -> None:
    storages = {
        "default": {"BACKEND": "storages_base.memory.MemoryStorage"},
        "staticfiles": {"BACKEND": "storages_s3.S3ManifestStaticStorage", "OPTIONS": options},
    }
    apps = [*settings.INSTALLED_APPS, "django.contrib.staticfiles"]
    with override_settings(
        INSTALLED_APPS=list(dict.fromkeys(apps)),
        STORAGES=storages,
        STATICFILES_DIRS=[str(static_dir)],
    ):
        call_command(Command(), interactive=False, verbosity=0)


def test_collectstatic_uploads_hashed_files_and_a_manifest(
    moto: S3Server, moto_bucket: str, static_dir: Path
) -> None:
    options = moto.options(moto_bucket, location="static")
    collectstatic(options, static_dir)

    storage = S3ManifestStaticStorage(**options)
    manifest = json.loads(storage.open("staticfiles.json").read())
    hashed_css = manifest["paths"]["css/app.css"]
    hashed_png = manifest["paths"]["img/bg.png"]
    assert hashed_css != "css/app.css"
    assert storage.exists(hashed_css)
    assert storage.exists("css/app.css")  # the original is kept too
    assert Path(hashed_png).name in storage.open(hashed_css).read().decode()
    assert storage.url("css/app.css").endswith("/static/" + hashed_css)
    assert "X-Amz-Signature" not in storage.url("css/app.css")


def test_collectstatic_runs_again_over_its_own_output(
    moto: S3Server, moto_bucket: str, static_dir: Path
) -> None:
    options = moto.options(moto_bucket)
    collectstatic(options, static_dir)
    (static_dir / "css" / "app.css").write_text("body { color: blue }\n")
    collectstatic(options, static_dir)

    storage = S3ManifestStaticStorage(**options)
    hashed = storage.stored_name("css/app.css")
    assert storage.open(hashed).read() == b"body { color: blue }\n"


def test_collectstatic_with_gzip_stores_compressed_text_that_reads_back(
    moto: S3Server, moto_bucket: str, static_dir: Path
) -> None:
    options = moto.options(moto_bucket, gzip=True)
    collectstatic(options, static_dir)

    storage = S3ManifestStaticStorage(**options)
    hashed = storage.stored_name("js/app.js")
    raw = moto.client().head_object(Bucket=moto_bucket, Key=hashed)
    assert raw["ContentEncoding"] == "gzip"
    assert storage.open(hashed).read() == b"console.log('hi');\n" * 50
    assert storage.size(hashed) == len(b"console.log('hi');\n" * 50)
