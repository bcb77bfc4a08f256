"""Static files: collectstatic into the GCS static storages, requests counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storages_base.testing import collectstatic
from storages_gcs import GoogleCloudManifestStaticStorage, GoogleCloudStaticStorage
from storages_gcs.testing import GCSEmulator


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "img").mkdir()
    (tmp_path / "css" / "app.css").write_text('body { background: url("../img/bg.png"); }\n')
    (tmp_path / "img" / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    for i in range(20):
        (tmp_path / "css" / f"f{i}.css").write_text(f".c{i} {{ color: red }}\n")
    return tmp_path


def test_collectstatic_with_nothing_changed_costs_one_listing(
    make_storage: Any, gcs: GCSEmulator, static_dir: Path
) -> None:
    collectstatic(make_storage(GoogleCloudStaticStorage, location="static"), static_dir)
    storage = make_storage(GoogleCloudStaticStorage, location="static")
    storage.client  # noqa: B018
    start = gcs.mark()
    collectstatic(storage, static_dir)
    seen = [f"{r.method} {r.path}" for r in gcs.requests(start)]
    assert seen == [f"GET /storage/v1/b/{storage.bucket_name}/o"]
    assert storage.url("css/app.css").endswith(f"/{storage.bucket_name}/static/css/app.css")


def test_collectstatic_uploads_hashed_files_and_a_manifest(
    make_storage: Any, static_dir: Path
) -> None:
    collectstatic(make_storage(GoogleCloudManifestStaticStorage), static_dir)
    storage = make_storage(GoogleCloudManifestStaticStorage)
    manifest = json.loads(storage.open("staticfiles.json").read())
    hashed_css = manifest["paths"]["css/app.css"]
    assert hashed_css != "css/app.css"
    assert storage.exists(hashed_css)
    assert Path(manifest["paths"]["img/bg.png"]).name in storage.open(hashed_css).read().decode()
    assert "X-Goog-Signature" not in storage.url("css/app.css")
    assert storage.url("css/app.css").endswith(hashed_css)
