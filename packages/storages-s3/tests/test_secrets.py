"""Secrets (issue 16, check 4): access keys, session token and CloudFront key never leak."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from storages_base.testing import free_port
from storages_base.testing.leaks import SecretScan
from storages_base.testing.reliability import confirm
from storages_s3 import S3Storage

from .conftest import S3Server, own_moto_process


@pytest.fixture(scope="module")
def moto_checking_signatures() -> Iterator[str]:
    """A moto process that checks every signature (IAM on), with a bucket."""
    with own_moto_process() as endpoint:
        admin = {"aws_access_key_id": "admin", "aws_secret_access_key": "admin"}
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **admin).create_bucket(
            Bucket="guarded"
        )
        urllib.request.urlopen(
            urllib.request.Request(
                f"{endpoint}/moto-api/reset-auth",
                data=b"0",
                method="POST",
                headers={"Content-Type": "text/plain"},
            ),
            timeout=10,
        ).close()
        yield endpoint


def test_no_secret_leaks(moto: S3Server, moto_bucket: str, moto_checking_signatures: str) -> None:
    keys = {
        "access_key": "AKIA" + secrets.token_hex(8).upper(),
        "secret_key": secrets.token_urlsafe(30),
        "security_token": secrets.token_urlsafe(90),
    }
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )
    body = pem.splitlines()[1:-1]
    not_a_key = "-----BEGIN RSA PRIVATE KEY-----\n" + secrets.token_urlsafe(48) + "\n-----END"
    scan = SecretScan(
        {
            **keys,
            "cloudfront_key": pem,
            "cloudfront_key line": body[len(body) // 2],
            "broken cloudfront_key": not_a_key,
        }
    )
    common = {"region_name": "us-east-1", **keys}
    with scan.logs():
        # moto without IAM accepts any key: the storage works, a missing file fails.
        working = S3Storage(
            bucket_name=moto_bucket, endpoint_url=moto.endpoint, location="media", **common
        )
        working.save("there.txt", ContentFile(b"x"))
        assert working.exists("there.txt")
        scan.error(lambda: working.open("missing.txt"), FileNotFoundError)
        scan.error(lambda: working.size("missing.txt"), FileNotFoundError)
        working.delete("there.txt")
        # Credentials the server does not know.
        refused = S3Storage(bucket_name="guarded", endpoint_url=moto_checking_signatures, **common)
        scan.error(lambda: refused.exists("a.txt"))
        scan.error(lambda: refused.save("a.txt", ContentFile(b"x")))
        scan.error(lambda: refused.open("a.txt"))
        scan.error(lambda: refused.listdir(""))
        # No server at all.
        unreachable = S3Storage(
            bucket_name="gone", endpoint_url=f"http://127.0.0.1:{free_port()}", **common
        )
        scan.error(lambda: unreachable.exists("a.txt"))
        scan.error(lambda: unreachable.save("a.txt", ContentFile(b"x")))
        # CloudFront-signed URLs: the private key signs, it is never shown.
        cloudfront = S3Storage(
            bucket_name=moto_bucket,
            endpoint_url=moto.endpoint,
            custom_domain="cdn.example.test",
            cloudfront_key_id="K" + secrets.token_hex(6).upper(),
            cloudfront_key=pem,
            **common,
        )
        assert "Signature=" in cloudfront.url("a.txt")
        scan.error(
            lambda: S3Storage(
                bucket_name=moto_bucket,
                endpoint_url=moto.endpoint,
                custom_domain="cdn.example.test",
                cloudfront_key_id="K1",
                cloudfront_key=not_a_key,
            ).url("a.txt"),
            ImproperlyConfigured,
            ValueError,
        )
    for storage in (working, refused, unreachable, cloudfront):
        scan.storage(storage)
    confirm("S3", "4. Secrets", scan.figures())
