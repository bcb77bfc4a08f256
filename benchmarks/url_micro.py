"""Micro-benchmark of S3 ``url()``: microseconds per call for each kind of URL.

    uv run python benchmarks/url_micro.py [--classic /tmp/classic/bin/python]

Prints µs/call for presigned SigV4, unsigned, custom-domain and CloudFront-signed URLs
over 2,000 distinct names (best of 5 runs), the bare RSA signature CloudFront needs,
botocore's own ``generate_presigned_url`` for the same storage, and the cost of the
first ``url()`` on a freshly built storage. With ``--classic``, the same figures are
measured for django-storages in that (separate) interpreter. No network is used: the
endpoint is a loopback address nothing listens on, and no URL makes a request.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

NAMES = [f"media/photos/{n // 100}/image-{n:05d} ãlöhâ.jpg" for n in range(2000)]
REPEATS = 5
OPTIONS: dict[str, Any] = {
    "bucket_name": "bench-bucket",
    "access_key": "AKIDBENCHMARK0000000",
    "secret_key": "benchmark-secret-key-not-a-real-one",
    "region_name": "eu-west-1",
    "signature_version": "s3v4",
}


def per_call(fn: Callable[[str], Any], names: list[str] = NAMES) -> float:
    """Best-of-REPEATS microseconds per call over ``names``."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for name in names:
            fn(name)
        best = min(best, time.perf_counter() - start)
    return best / len(names) * 1e6


def first_call_ms(make: Callable[[], Any], repeats: int = 20) -> float:
    """Median milliseconds of building a storage and its first url()."""
    samples = []
    for number in range(repeats):
        start = time.perf_counter()
        make().url(f"first-{number}.txt")
        samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return samples[len(samples) // 2]


def rsa_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def bare_rsa_us(pem: bytes) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem, None)
    message = b'{"Statement":[{"Resource":"https://cdn.example.com/' + b"x" * 60 + b'"}]}'
    return per_call(lambda _: key.sign(message, padding.PKCS1v15(), hashes.SHA1()), NAMES[:300])


def measure(storage_class: Any, pem: bytes) -> dict[str, float]:
    """The figures for one storage class (ours or django-storages')."""
    results: dict[str, float] = {}
    presigned = storage_class(**OPTIONS)
    presigned.url("warm-up")
    results["presigned SigV4"] = per_call(presigned.url)
    unsigned = storage_class(**OPTIONS, querystring_auth=False)
    unsigned.url("warm-up")
    results["unsigned"] = per_call(unsigned.url)
    domain = storage_class(**OPTIONS, custom_domain="cdn.example.com")
    results["custom domain"] = per_call(domain.url)
    signed = storage_class(
        **OPTIONS, custom_domain="cdn.example.com", cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_key=pem,
    )  # fmt: skip
    signed.url("warm-up")
    results["CloudFront"] = per_call(signed.url, NAMES[:300])
    results["bare RSA-SHA1 signature"] = bare_rsa_us(pem)
    results["first url() on a new storage (ms)"] = first_call_ms(lambda: storage_class(**OPTIONS))
    results["first url() on a new unsigned storage (ms)"] = first_call_ms(
        lambda: storage_class(**OPTIONS, querystring_auth=False)
    )
    return results


def ours() -> dict[str, float]:
    from storages_base.testing import setup_django

    setup_django()
    import boto3
    from botocore.config import Config

    from storages_s3 import S3Storage

    pem = rsa_pem()
    results = measure(S3Storage, pem)
    client = boto3.Session(
        aws_access_key_id=OPTIONS["access_key"], aws_secret_access_key=OPTIONS["secret_key"]
    ).client("s3", region_name="eu-west-1", config=Config(signature_version="s3v4"))

    def botocore_url(name: str) -> str:
        return str(client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": name}))

    botocore_url("warm-up")
    results["botocore generate_presigned_url"] = per_call(botocore_url, NAMES[:500])
    storage = S3Storage(**OPTIONS)
    storage.session  # noqa: B018 - the session exists; only the URL machinery is timed
    start = time.perf_counter()
    storage.url("first.txt")
    results["first url() with the session already built (ms)"] = (time.perf_counter() - start) * 1e3
    return results


def classic() -> dict[str, float]:
    import django
    from django.conf import settings

    settings.configure(USE_TZ=True)
    django.setup()
    from storages.backends.s3 import S3Storage

    return measure(S3Storage, rsa_pem())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classic", help="python of a venv with django-storages installed")
    parser.add_argument("--json-classic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json_classic:
        print(json.dumps(classic()))
        return
    mine = ours()
    theirs: dict[str, float] = {}
    if args.classic:
        output = subprocess.run(
            [args.classic, __file__, "--json-classic"], check=True, capture_output=True, text=True
        ).stdout
        theirs = json.loads(output.strip().splitlines()[-1])
    print(f"{'url() kind':48} {'ours µs':>10} {'classic µs':>11} {'ratio':>7}")
    for kind, value in mine.items():
        other = theirs.get(kind)
        ratio = f"{other / value:6.1f}x" if other else ""
        other_text = f"{other:11.1f}" if other else ""
        print(f"{kind:48} {value:10.2f} {other_text:>11} {ratio:>7}")


if __name__ == "__main__":
    sys.exit(main())
