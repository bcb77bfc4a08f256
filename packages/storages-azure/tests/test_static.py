"""Static files: collectstatic into AzureStaticStorage / AzureManifestStaticStorage on Azurite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storages_azure import AzureManifestStaticStorage, AzureStaticStorage
from storages_base.testing import collectstatic

from .conftest import Azurite


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    for folder in ("css", "img", "js"):
        (tmp_path / folder).mkdir()
    (tmp_path / "css" / "app.css").write_text('body { background: url("../img/bg.png"); }\n')
    (tmp_path / "img" / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    for i in range(30):
        (tmp_path / "js" / f"m{i}.js").write_text(f"console.log({i});\n" * 20)
    return tmp_path


def test_collectstatic_writes_hashed_files_a_manifest_and_plain_urls(
    azurite: Azurite, static_dir: Path
) -> None:
    container = azurite.new_container(public=True)
    storage = AzureManifestStaticStorage(**azurite.options(container, location="static"))
    collectstatic(storage, static_dir)
    manifest = json.loads(storage.open("staticfiles.json").read())
    hashed = manifest["paths"]["css/app.css"]
    assert hashed != "css/app.css"
    assert Path(manifest["paths"]["img/bg.png"]).name in storage.open(hashed).read().decode()
    again = AzureManifestStaticStorage(**azurite.options(container, location="static"))
    url = again.url("css/app.css")
    assert url.endswith(f"/{container}/static/{hashed}")
    assert "sig=" not in url


def test_collectstatic_with_nothing_changed_costs_a_listing_not_requests_per_file(
    counted: Azurite, static_dir: Path
) -> None:
    container = counted.new_container(public=True)
    first = AzureStaticStorage(**counted.options(container))
    collectstatic(first, static_dir)
    assert first.exists("js/m29.js")
    storage = AzureStaticStorage(**counted.options(container))
    mark = counted.mark()
    collectstatic(storage, static_dir)
    seen = [str(request) for request in counted.requests(mark)]
    assert len(seen) <= 2, seen  # one listing of the container (33 files), no per-file HEAD
