"""The demo in a real browser: Debian's headless Chromium driven by Playwright.

Upload a PNG through Django and see the browser render it from the storage server's
signed URL; upload one from the browser straight to the storage server with a
presigned POST and see it listed and rendered; delete both and see them gone. The
browser is the system's ``chromium`` (Playwright never downloads one here); without it
the test skips and says so. A screenshot of the gallery is kept in ``.artifacts/``.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DEMO_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM} (scripts/test installs Debian's chromium as root)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def rendered_from(page: Any, item: Any) -> str:
    """Wait until the item's image has really loaded; return the URL it came from."""
    image = item.locator("img").first
    image.wait_for()
    handle = image.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
    assert image.evaluate("img => img.naturalWidth") == 160
    return str(image.evaluate("img => img.currentSrc"))


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_upload_render_direct_upload_and_delete_in_chromium(
    page: Any,
    s3_demo: Any,
    png_file: Callable[[str, int], Path],
    artifacts: Path,
) -> None:
    storage = s3_demo.storage_endpoint
    assert storage is not None
    assert not s3_demo.url.startswith(storage)
    page.goto(s3_demo.url)

    # 1. Through Django: the form posts to the site, the site saves to S3.
    page.fill("#upload-form input[name=title]", "Through Django")
    page.set_input_files("#upload-form input[name=image]", str(png_file("sunrise.png", 3)))
    page.click("#upload-form button[type=submit]")
    classic = page.locator("li.item", has_text="Through Django")
    classic.wait_for()
    classic_src = rendered_from(page, classic)
    assert classic_src.startswith(storage + "/demo-media/images/")
    assert "X-Amz-Signature=" in classic_src  # signed: the bucket is private
    assert classic.locator("dd.size").inner_text().endswith("bytes")
    assert classic.locator("dd.modified").inner_text().endswith("UTC")

    # 2. Straight to storage: the browser POSTs the file to S3, Django only signs.
    page.fill("#direct-form input[name=title]", "Straight to S3")
    page.set_input_files("#direct-form input[name=file]", str(png_file("sunset.png", 7)))
    with page.expect_request(lambda r: r.method == "POST" and r.url.startswith(storage)):
        page.click("#direct-form button[type=submit]")
    direct = page.locator("li.item", has_text="Straight to S3")
    direct.wait_for()
    direct_src = rendered_from(page, direct)
    assert direct_src.startswith(storage + "/demo-media/direct/")
    assert direct.locator(".tag").inner_text() == "direct"
    assert page.locator("li.item").count() == 2

    page.screenshot(path=str(artifacts / "demo-screenshot.png"), full_page=True)

    # 3. Delete: gone from the page, and from the storage server.
    direct.locator("button.delete").click()
    page.locator("li.item", has_text="Straight to S3").wait_for(state="detached")
    assert page.locator("li.item").count() == 1
    assert status_of(direct_src) == 404
    classic.locator("button.delete").click()
    page.locator("p.empty").wait_for()
    assert page.locator("li.item").count() == 0
    assert status_of(classic_src) == 404


def test_azure_sas_images_and_a_direct_put_in_chromium(
    page: Any, azure_demo: Any, png_file: Callable[[str, int], Path]
) -> None:
    """On Azure the direct upload is a PUT of the file with a create-only SAS (CORS set by
    the demo on Azurite); the gallery's images are SAS URLs of a private container."""
    storage = azure_demo.storage_endpoint
    assert storage is not None
    container = storage + "/devstoreaccount1/demo-media"
    page.goto(azure_demo.url)
    page.fill("#upload-form input[name=title]", "Through Django")
    page.set_input_files("#upload-form input[name=image]", str(png_file("sunrise.png", 3)))
    page.click("#upload-form button[type=submit]")
    classic = page.locator("li.item", has_text="Through Django")
    classic.wait_for()
    classic_src = rendered_from(page, classic)
    assert classic_src.startswith(container + "/images/")
    assert "sig=" in classic_src  # a SAS: the container is private

    page.fill("#direct-form input[name=title]", "Straight to Azure")
    page.set_input_files("#direct-form input[name=file]", str(png_file("sunset.png", 7)))
    with page.expect_request(lambda r: r.method == "PUT" and r.url.startswith(storage)):
        page.click("#direct-form button[type=submit]")
    direct = page.locator("li.item", has_text="Straight to Azure")
    direct.wait_for()
    direct_src = rendered_from(page, direct)
    assert direct_src.startswith(container + "/direct/")

    direct.locator("button.delete").click()
    page.locator("li.item", has_text="Straight to Azure").wait_for(state="detached")
    assert status_of(direct_src) == 404
    classic.locator("button.delete").click()
    page.locator("p.empty").wait_for()
    assert status_of(classic_src) == 404


def test_the_direct_upload_is_refused_by_the_site_when_the_file_is_too_large(
    page: Any, s3_demo: Any, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (11 * 1024 * 1024))  # over the demo's 10 MiB limit
    page.goto(s3_demo.url)

    page.set_input_files("#direct-form input[name=file]", str(big))
    page.click("#direct-form button[type=submit]")

    page.wait_for_function(
        "() => document.querySelector('#direct-status').textContent.includes('larger than')"
    )
    assert page.locator("li.item", has_text="big.bin").count() == 0


def test_the_admin_uploads_and_lists_files_on_the_same_storage(
    page: Any, s3_demo: Any, png_file: Callable[[str, int], Path]
) -> None:
    page.goto(s3_demo.url + "admin/gallery/upload/add/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", s3_demo.admin_password)
    page.click("input[type=submit]")

    page.fill("#id_title", "From the admin")
    page.set_input_files("#id_image", str(png_file("admin.png", 11)))
    page.click("input[name=_continue]")
    link = page.locator("p.file-upload a").first
    link.wait_for()
    href = str(link.get_attribute("href"))

    assert href.startswith(s3_demo.storage_endpoint + "/demo-media/images/")
    assert status_of(href) == 200
    page.goto(s3_demo.url)
    item = page.locator("li.item", has_text="From the admin")
    assert rendered_from(page, item) == href
    item.locator("button.delete").click()
    page.locator("li.item", has_text="From the admin").wait_for(state="detached")
