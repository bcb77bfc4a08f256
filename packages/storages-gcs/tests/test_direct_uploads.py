"""Direct uploads: V4 POST policies, posted as a browser posts them, checked by the server."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from storages_gcs import GoogleCloudStorage
from storages_gcs.testing import GCSEmulator


def post_form(url: str, fields: dict[str, str], data: bytes, content_type: str) -> int:
    """POST ``fields`` and the file (last) as ``multipart/form-data``, as a browser does."""
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.fixture
def uploads(make_storage: Callable[..., GoogleCloudStorage]) -> GoogleCloudStorage:
    return make_storage(
        location="media",
        object_parameters={"cache_control": "max-age=60", "metadata": {"owner": "7"}},
    )


def test_a_browser_uploads_within_the_policy_and_the_file_is_stored(
    uploads: GoogleCloudStorage, gcs: GCSEmulator
) -> None:
    upload = uploads.presigned_upload("in/photo.png", max_size=1000, content_type="image/png")
    assert upload.name == "in/photo.png"
    assert upload.key == "media/in/photo.png"
    assert upload.url == f"{gcs.url}/{uploads.bucket_name}/"
    assert post_form(upload.url, upload.fields, b"\x89PNG" * 10, "image/png") == 204

    assert uploads.open("in/photo.png").read() == b"\x89PNG" * 10
    obj = gcs.storage.get_file_obj(uploads.bucket_name, "media/in/photo.png")
    assert obj["contentType"] == "image/png"
    assert obj["cacheControl"] == "max-age=60"
    assert obj["metadata"] == {"owner": "7"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"data": b"x" * 1001}, 400),  # over max_size
        ({"fields": {"Content-Type": "text/html"}}, 403),  # not the type signed
        ({"fields": {"key": "media/elsewhere.png"}}, 403),  # another name
        ({"fields": {"x-goog-meta-admin": "yes"}}, 403),  # a field the policy does not name
        ({"fields": {"x-goog-signature": "00" * 256}}, 403),
    ],
)
def test_what_the_policy_does_not_allow_is_refused_and_nothing_stored(
    uploads: GoogleCloudStorage, change: dict[str, Any], expected: int
) -> None:
    upload = uploads.presigned_upload("in/photo.png", max_size=1000, content_type="image/png")
    fields = {**upload.fields, **change.get("fields", {})}
    data = change.get("data", b"small")
    assert post_form(upload.url, fields, data, "image/png") == expected
    assert not uploads.exists("in/photo.png")
    assert not uploads.exists("elsewhere.png")


def test_a_content_type_prefix_allows_any_type_under_it(uploads: GoogleCloudStorage) -> None:
    upload = uploads.presigned_upload("a.jpg", max_size=100, content_type="image/")
    fields = {**upload.fields, "Content-Type": "image/jpeg"}
    assert post_form(upload.url, fields, b"jpeg", "image/jpeg") == 204
    assert post_form(upload.url, {**fields, "Content-Type": "text/plain"}, b"t", "t/p") == 403


def test_a_public_read_storage_uploads_public_files(
    make_storage: Callable[..., GoogleCloudStorage],
) -> None:
    storage = make_storage(default_acl="publicRead")
    upload = storage.presigned_upload("p.txt", max_size=100, content_type="text/plain")
    assert upload.fields["acl"] == "public-read"
    assert post_form(upload.url, upload.fields, b"public", "text/plain") == 204
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(storage.url("p.txt"), timeout=10) as response:
        assert response.read() == b"public"


def test_bad_sizes_and_expiries_are_refused(uploads: GoogleCloudStorage) -> None:
    with pytest.raises(ValueError, match="min_size"):
        uploads.presigned_upload("a", max_size=1, min_size=2)
    with pytest.raises(ValueError, match="expire"):
        uploads.presigned_upload("a", max_size=1, expire=8 * 86400)
