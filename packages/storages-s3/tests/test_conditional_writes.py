"""No silent overwrite on S3-compatible servers that ignore ``If-None-Match`` (s3rver does).

On an endpoint other than Amazon S3, a no-overwrite save confirms that its name is free
(a HEAD) before the conditional write, unless ``conditional_writes`` says the server
honours the header.
"""

from __future__ import annotations

import threading

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from storages_s3 import S3Storage

from .conftest import S3Server


def test_s3rver_ignores_if_none_match_so_trusting_it_would_overwrite(s3rver: S3Server) -> None:
    """The gap this guards against, shown: declared as honouring conditional writes,
    s3rver replaces the file (this test fails the day s3rver starts refusing)."""
    bucket = s3rver.new_bucket()
    trusting = s3rver.storage(bucket, file_overwrite=False, conditional_writes=True)
    trusting.save("a.txt", ContentFile(b"first"))
    trusting._save("a.txt", ContentFile(b"second"))  # the create-only write, name taken
    assert trusting.open("a.txt").read() == b"second"  # silently replaced


def test_on_s3rver_a_no_overwrite_save_never_replaces_a_file(s3rver: S3Server) -> None:
    """``AWS_S3_FILE_OVERWRITE = False`` on a non-AWS endpoint, nothing else set."""
    bucket = s3rver.new_bucket()
    storage = s3rver.storage(bucket, file_overwrite=False)
    assert storage.conditional_writes is False
    first = storage.save("a.txt", ContentFile(b"first"))
    second = storage.save("a.txt", ContentFile(b"second"))
    assert (first, storage.open(first).read()) == ("a.txt", b"first")
    assert second != first
    assert storage.open(second).read() == b"second"
    with pytest.raises(FileExistsError):  # the create-only write itself refuses
        storage._save("a.txt", ContentFile(b"third"))
    assert storage.open("a.txt").read() == b"first"


def test_on_s3rver_another_process_file_is_never_replaced(s3rver: S3Server) -> None:
    """The file was written by someone else (another process, another storage)."""
    bucket = s3rver.new_bucket()
    s3rver.client().put_object(Bucket=bucket, Key="theirs.txt", Body=b"theirs")
    storage = s3rver.storage(bucket, file_overwrite=False)
    with pytest.raises(FileExistsError):
        storage._save("theirs.txt", ContentFile(b"mine"))
    name = storage.save("theirs.txt", ContentFile(b"mine"))
    assert name != "theirs.txt"
    body = s3rver.client().get_object(Bucket=bucket, Key="theirs.txt")["Body"].read()
    assert body == b"theirs"


def test_on_s3rver_concurrent_saves_of_one_name_keep_every_file(s3rver: S3Server) -> None:
    bucket = s3rver.new_bucket()
    storage = s3rver.storage(bucket, file_overwrite=False)
    barrier = threading.Barrier(6)
    names: dict[int, str] = {}

    def save(index: int) -> None:
        barrier.wait(10)
        names[index] = storage.save("race.txt", ContentFile(f"w{index}".encode()))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(set(names.values())) == 6
    for index, name in names.items():
        assert storage.open(name).read() == f"w{index}".encode()


def test_the_confirmation_is_one_head_before_the_conditional_put(moto_counted: S3Server) -> None:
    bucket = moto_counted.new_bucket()
    options = moto_counted.options(bucket, file_overwrite=False)
    del options["conditional_writes"]  # unset, as a user leaves it
    unset = S3Storage(**options)
    mark = moto_counted.mark()
    unset.save("a.txt", ContentFile(b"x"))
    sent = [(r.method, "if-none-match" in r.headers) for r in moto_counted.requests(mark)]
    assert sent == [("HEAD", False), ("PUT", True)]

    trusted = moto_counted.storage(bucket, file_overwrite=False)  # conditional_writes=True
    mark = moto_counted.mark()
    trusted.save("b.txt", ContentFile(b"x"))
    sent = [(r.method, "if-none-match" in r.headers) for r in moto_counted.requests(mark)]
    assert sent == [("PUT", True)]


@pytest.mark.parametrize(
    ("endpoint", "trusted"),
    [
        (None, True),
        ("https://s3.eu-west-1.amazonaws.com", True),
        ("https://s3.dualstack.us-east-1.amazonaws.com", True),
        ("https://fra1.digitaloceanspaces.com", False),
        ("https://account.r2.cloudflarestorage.com", False),
        ("http://127.0.0.1:9000", False),
    ],
)
def test_only_amazon_s3_is_trusted_unless_the_setting_says_so(
    endpoint: str | None, trusted: bool
) -> None:
    assert S3Storage(bucket_name="b", endpoint_url=endpoint).conditional_writes is trusted
    with override_settings(AWS_S3_CONDITIONAL_WRITES=True):
        assert S3Storage(bucket_name="b", endpoint_url=endpoint).conditional_writes is True
    declared = S3Storage(bucket_name="b", endpoint_url=endpoint, conditional_writes=False)
    assert declared.conditional_writes is False
