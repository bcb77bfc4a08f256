"""The scenarios, run in the client process: ``python scenarios.py SCENARIO`` (config in env).

The same file runs in both environments: the classic one (django-storages) and the
workspace one (ours). It drives the storage only through Django's public Storage API,
built from the class path and options the harness passes, and prints one JSON line of
measurements. Before each measured step it tells the counting proxy which phase it is
in (``mark``), so requests are counted on the server side, not here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

CONFIG: dict[str, Any] = json.loads(os.environ.get("BENCH_CONFIG", "{}"))
for _module in CONFIG.get("hidden_modules", ()):  # installed on this side only (run.py)
    sys.modules[_module] = None  # type: ignore[assignment]  # import raises ImportError
RESULT: dict[str, Any] = {"metrics": {}, "checks": {}, "info": {}}
URL_NAMES = [f"media/photos/{i // 100:03d}/IMG_{i:05d} ãlöhâ.jpg" for i in range(2000)]


def mark(phase: str) -> None:
    """Tell the counting proxy (server side) which phase the following requests belong to.

    In lockstep (``proxy.Turns``: the per-operation scenario, both sides at once) the mark
    of a measured phase also waits for this side's turn."""
    if CONFIG.get("lockstep"):
        url = f"{CONFIG['control']}/turn/{CONFIG['side']}/{quote(phase)}"
    else:
        url = f"{CONFIG['control']}/phase/{quote(phase)}"
    urllib.request.urlopen(url).read()


@contextmanager
def measure(name: str, n: int = 1):  # type: ignore[no-untyped-def]
    """Wall and CPU time of the block, added to metric ``name`` (its requests counted too)."""
    mark(name)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    except NotImplementedError:  # e.g. the classic FTP backend has no get_modified_time()
        unsupported = RESULT["info"].setdefault("unsupported", [])
        unsupported += [] if name in unsupported else [name]
        mark("between")
        return
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    mark("between")
    metric = RESULT["metrics"].setdefault(name, {"wall": 0.0, "cpu": 0.0, "n": 0})
    metric["wall"] += wall
    metric["cpu"] += cpu
    metric["n"] += n


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULT["checks"][name] = "ok" if ok else f"FAILED {detail}".strip()


def setup_django(
    storages: dict[str, Any] | None = None,
    static_dir: str | None = None,
    apps: tuple[str, ...] = (),
) -> None:
    """A temporary settings module, as a project would have (STORAGES, static files);
    ``apps`` are listed before staticfiles in INSTALLED_APPS."""
    folder = Path(tempfile.mkdtemp(prefix="bench-settings-"))
    settings = {
        "SECRET_KEY": "benchmark",
        "USE_TZ": True,
        "INSTALLED_APPS": [*apps, "django.contrib.staticfiles"],
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(folder / "unused-static-root"),
        "STATICFILES_DIRS": [static_dir] if static_dir else [],
        "STORAGES": storages
        or {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        },
    }
    lines = [f"{key} = {value!r}" for key, value in settings.items()]
    (folder / "bench_settings.py").write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(folder))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()


def storage_class(kind: str) -> Any:
    from django.utils.module_loading import import_string

    return import_string(CONFIG["classes"][kind])


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident memory (``VmHWM``: its peak; unlike ``ru_maxrss``, it does
    not carry the harness's own peak over the fork and exec that started this process)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


# -- 1. url() ---------------------------------------------------------------------------


def scenario_urls() -> None:
    setup_django()
    from django.core.files.base import ContentFile

    cls, options = storage_class("s3"), CONFIG["options"]
    with measure("url: first call on a new storage (first in the process)"):
        cls(**options).url("first/call.jpg")
    for variant, extra in {"": {}, ", unsigned": {"querystring_auth": False}}.items():
        for number in range(20):
            with measure(f"url: first call on another new storage{variant}"):
                cls(**options, **extra).url(f"first/call-{number}.jpg")
    mark("setup")
    samples = URL_NAMES[::499]
    public = cls(**options, default_acl="public-read")
    for name in samples:
        public.save(name, ContentFile(name.encode()))
    key_pem, public_key = _rsa_key()
    site = f"127.0.0.1:{CONFIG['s3_port']}/{options['bucket_name']}"
    variants = {
        "presigned SigV4": {},
        "unsigned (querystring_auth=False)": {"querystring_auth": False},
        "custom domain": {"custom_domain": site, "url_protocol": "http:"},
        "CloudFront-signed": {
            "custom_domain": site,
            "url_protocol": "http:",
            "cloudfront_key_id": "APKABENCHMARK",
            "cloudfront_key": key_pem,
        },
    }
    for variant, extra in variants.items():
        storage = cls(**options, **extra)
        storage.url(URL_NAMES[0])  # builds the client/signer: counted in the first-call row
        with measure(f"url: {variant}", n=len(URL_NAMES)):
            for name in URL_NAMES:
                storage.url(name)
        mark("checks")
        urls = [storage.url(name) for name in samples]
        _check_fetch(variant, urls, samples)
        if "CloudFront" in variant:
            check("CloudFront signature verifies", all(_cloudfront_ok(u, public_key) for u in urls))
        if variant == "presigned SigV4" and CONFIG["side"] == "ours":
            _check_same_as_botocore(urls[0], samples[0])
    _reference_costs(key_pem)
    _botocore_reference()


def scenario_page() -> None:
    """A page of 100 private images rendered 20 times: what each view costs, and how many
    distinct URLs a browser sees (with ``spread``: the views one second apart, so the
    classic side's per-second signatures change between them). ``provider``: S3 (SigV4,
    CloudFront), GCS (V4, the service account's RSA key) or Azure (account-key SAS)."""
    setup_django()
    provider = CONFIG.get("provider", "s3")
    cls, options = storage_class(provider), CONFIG["options"]
    if provider == "gcs":
        from google.oauth2 import service_account

        info = CONFIG["gcs_service_account"]
        credentials = service_account.Credentials.from_service_account_info(info)
        variants: dict[str, dict[str, Any]] = {"GCS V4 signed": {"credentials": credentials}}
    elif provider == "azure":
        variants = {"Azure SAS": {}}
    else:
        key_pem, _ = _rsa_key()
        site = f"127.0.0.1:{CONFIG['s3_port']}/{options['bucket_name']}"
        cloudfront = {"cloudfront_key_id": "APKABENCHMARK", "cloudfront_key": key_pem}
        variants = {
            "presigned SigV4": {},
            "CloudFront-signed": {"custom_domain": site, "url_protocol": "http:", **cloudfront},
        }
    page = URL_NAMES[:100]
    for variant, extra in variants.items():
        storage = cls(**{**options, **extra})
        storage.url("warm/up.jpg")  # builds the signer: not part of a view
        _not_at_a_window_end(30)
        # The first view signs every URL (ours too); the 19 after it are what a site serves
        # all day: within one reuse window ours looks them up.
        with measure(f"page of 100 images, first view: {variant}", n=len(page)):
            for name in page:
                storage.url(name)
        with measure(f"page of 100 images, 19 later views: {variant}", n=len(page) * 19):
            for _view in range(19):
                for name in page:
                    storage.url(name)
        if CONFIG.get("spread"):
            _not_at_a_window_end(25)
            seen: set[str] = set()
            for _view in range(20):
                time.sleep(1.01 - time.time() % 1)  # each view in a second of its own
                seen.update(storage.url(name) for name in page)
            RESULT["info"][f"distinct URLs: {variant}"] = len(seen)


def _not_at_a_window_end(seconds: int) -> None:
    """Wait, on both sides alike, when fewer than ``seconds`` are left in the default reuse
    window (15 minutes): the views measured then fall in one window, as most views do."""
    left = 900 - time.time() % 900
    if left < seconds:
        time.sleep(left + 0.5)


def _check_fetch(variant: str, urls: list[str], names: list[str]) -> None:
    failures = []
    for url, name in zip(urls, names, strict=True):
        try:
            with urllib.request.urlopen(url) as response:
                if response.read() != name.encode():
                    failures.append(f"{url}: wrong body")
        except OSError as exc:
            failures.append(f"{url}: {exc}")
    check(f"{variant}: {len(urls)} URLs fetched, 200", not failures, "; ".join(failures))


def _rsa_key() -> tuple[bytes, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem, key.public_key()


def _cloudfront_ok(url: str, public_key: Any) -> bool:
    """Verify a canned-policy CloudFront URL with the public key (RSA-SHA1, CloudFront base64)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    base, _, query = url.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    condition = {"DateLessThan": {"AWS:EpochTime": int(params.get("Expires", 0))}}
    policy = json.dumps(
        {"Statement": [{"Resource": base, "Condition": condition}]}, separators=(",", ":")
    )
    signature = params.get("Signature", "").translate(str.maketrans("-_~", "+=/"))
    try:
        public_key.verify(
            base64.b64decode(signature), policy.encode(), padding.PKCS1v15(), hashes.SHA1()
        )
    except (InvalidSignature, ValueError):
        return False
    return params.get("Key-Pair-Id") == "APKABENCHMARK"


def _check_same_as_botocore(url: str, name: str) -> None:
    """Our presigned URL is byte-identical to botocore's for the same instant."""
    import datetime

    from botocore import auth

    stamp = parse_qs(urlsplit(url).query)["X-Amz-Date"][0]
    instant = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    options = CONFIG["options"]
    client = _boto3_client()
    saved, auth.get_current_datetime = auth.get_current_datetime, lambda *a, **k: instant
    try:
        expected = client.generate_presigned_url(
            "get_object", Params={"Bucket": options["bucket_name"], "Key": name}, ExpiresIn=3600
        )
    finally:
        auth.get_current_datetime = saved
    check("presigned URL byte-identical to botocore's", url == expected, f"{url} != {expected}")


def _reference_costs(key_pem: bytes) -> None:
    """The floors the URL targets are stated against, measured in the same process."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(key_pem, password=None)
    secret = b"AWS4" + CONFIG["options"]["secret_key"].encode()
    with measure("reference: SigV4 HMACs (key derivation + sha256 + signature)", len(URL_NAMES)):
        for name in URL_NAMES:
            signing = secret
            for part in (b"20260101", b"us-east-1", b"s3", b"aws4_request"):
                signing = hmac.new(signing, part, hashlib.sha256).digest()
            digest = hashlib.sha256(f"GET\n/{name}\n".encode()).hexdigest()
            hmac.new(signing, digest.encode(), hashlib.sha256).hexdigest()
    with measure("reference: bare RSA-SHA1 signature", len(URL_NAMES)):
        for name in URL_NAMES:
            key.sign(name.encode(), padding.PKCS1v15(), hashes.SHA1())  # type: ignore[union-attr]


def _boto3_client() -> Any:
    """A plain boto3 client with the storages' endpoint, region and keys."""
    import boto3
    from botocore.config import Config

    options = CONFIG["options"]
    return boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        region_name=options["region_name"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        config=Config(signature_version="s3v4"),
    )


def _botocore_reference() -> None:
    """botocore's own ``generate_presigned_url`` (what the classic backend calls per URL)."""
    options = CONFIG["options"]
    client = _boto3_client()
    params = {"Bucket": options["bucket_name"]}
    client.generate_presigned_url("get_object", Params={**params, "Key": "warm-up"})
    with measure("reference: botocore generate_presigned_url", len(URL_NAMES)):
        for name in URL_NAMES:
            client.generate_presigned_url("get_object", Params={**params, "Key": name})


def scenario_gcs_urls() -> None:
    """GCS url(): V4 signed for new names, a page asked again, public; and the bare
    RSA-SHA256 signature every signed URL needs (the floor), in the same process."""
    setup_django()
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from google.oauth2 import service_account

    info = CONFIG["gcs_service_account"]
    credentials = service_account.Credentials.from_service_account_info(info)
    cls, options = storage_class("gcs"), CONFIG["options"]
    with measure("url: first call on a new storage (first in the process)"):
        cls(**options, credentials=credentials).url("first/call.jpg")
    signed = cls(**options, credentials=credentials)
    signed.url("warm/up.jpg")
    with measure("url: V4 signed, new names", n=len(URL_NAMES)):
        for name in URL_NAMES:
            signed.url(name)
    page = URL_NAMES[:100]
    with measure("url: V4 signed, a page of 100 names viewed 20 times", n=len(page) * 20):
        for _view in range(20):
            for name in page:
                signed.url(name)
    public = cls(**options, credentials=credentials, querystring_auth=False)
    public.url("warm/up.jpg")
    with measure("url: public (querystring_auth=False)", n=len(URL_NAMES)):
        for name in URL_NAMES:
            public.url(name)
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    with measure("reference: bare RSA-SHA256 signature", len(URL_NAMES)):
        for name in URL_NAMES:
            key.sign(name.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]


# -- 2. per operation -------------------------------------------------------------------


def scenario_ops() -> None:
    setup_django()
    from django.core.files.base import ContentFile

    storage = storage_class(CONFIG["provider"])(**CONFIG["options"])
    n = int(CONFIG.get("n", 50))
    names = [f"ops/file-{i:03d}.bin" for i in range(n)]
    body = random.Random(1).randbytes(1024)
    mark("setup")
    storage.exists("ops/warm-up")  # the connection/client: not part of any operation
    for i in range(200):
        storage.save(f"dir200/f{i:03d}.txt", ContentFile(b"x"))
    for name in names:
        with measure("save"):
            saved = storage.save(name, ContentFile(body))
        check("save keeps the name", saved == name, saved)
    for name in names:
        with measure("exists"):
            storage.exists(name)
        with measure("exists (missing)"):
            storage.exists(name + ".missing")
        with measure("size"):
            storage.size(name)
        with measure("get_modified_time"):
            storage.get_modified_time(name)
    for name in names:
        with measure("open+read"):
            file = storage.open(name, "rb")
            data = file.read()
        with measure("File.size of the opened file"):
            size = file.size
        with measure("size right after open"):
            storage.size(name)
        with measure("get_modified_time right after open"):
            storage.get_modified_time(name)
        with measure("close"):
            file.close()
        check("read returns the bytes saved", data == body and size == len(body))
    for _ in range(5):
        with measure("listdir (200 files)"):
            _dirs, files = storage.listdir("dir200")
        check("listdir sees 200 files", len(files) == 200, str(len(files)))
    for name in names:
        with measure("delete"):
            storage.delete(name)
    check("deleted files are gone", not any(storage.exists(name) for name in names))


# -- 3. collectstatic -------------------------------------------------------------------


def scenario_collectstatic() -> None:
    """One ``collectstatic`` run in this process (a deploy is a new process each time)."""
    source = _static_tree(Path(CONFIG["workdir"]) / "static-src", int(CONFIG["files"]))
    backend = {"BACKEND": CONFIG["classes"][CONFIG["static_kind"]], "OPTIONS": CONFIG["options"]}
    # Ours: "storages_base" before staticfiles makes its collectstatic command (uploads in
    # storage.batch()) replace Django's; the classic side always runs Django's.
    batched = CONFIG["side"] == "ours" and CONFIG.get("batch", True)
    apps = ("storages_base",) if batched else ()
    setup_django({"default": backend, "staticfiles": backend}, str(source), apps)
    from django.core.management import call_command, get_commands

    expected = "storages_base" if batched else "django.contrib.staticfiles"
    check("collectstatic is the expected command", get_commands()["collectstatic"] == expected)
    label = CONFIG["label"]
    with measure(label):
        call_command("collectstatic", interactive=False, verbosity=0)


def _static_tree(root: Path, count: int) -> Path:
    """``count`` files of 1-20 KiB in 50-file folders; a tenth are CSS referring to two PNGs."""
    root = root / str(count)
    if root.exists():
        return root
    rnd = random.Random(count)
    for i in range(count):
        path = root / f"app{i // 50}" / f"f{i}.{('css', *['js'] * 6, *['png'] * 3)[i % 10]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 10 == 0:
            rules = "".join(f'.c{j} {{ background: url("f{j}.png"); }}\n' for j in (i + 7, i + 8))
            path.write_text(rules + "/* " + "x" * rnd.randint(1024, 20480) + " */\n")
        elif path.suffix == ".js":  # text: the manifest storage reads it for source maps
            path.write_text("".join(rnd.choices("abcdefgh ;\n", k=rnd.randint(1024, 20480))))
        else:
            path.write_bytes(rnd.randbytes(rnd.randint(1024, 20480)))
    return root


# -- 4. large files ---------------------------------------------------------------------


def scenario_large() -> None:
    """Save or read back one large file (a process each: peaks are per process)."""
    setup_django()
    from django.core.files import File

    label = ""
    if CONFIG.get("checksums"):  # botocore's checksum policy, the same on both sides
        os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] = CONFIG["checksums"]
        label = " (CRC32 per part on both sides, as against AWS)"
    storage = storage_class(CONFIG["provider"])(**CONFIG["options"])
    mib, name = int(CONFIG["mib"]), "large/blob.bin"
    mark("setup")
    storage.exists("large/warm-up")  # the connection/client
    if CONFIG["direction"] == "save":
        source = _large_source(Path(CONFIG["workdir"]), mib)
        with open(source, "rb") as handle:
            RESULT["info"]["rss_before_kib"] = rss_kib()
            with measure(f"save {mib} MiB{label}"):
                storage.save(name, File(handle, name="blob.bin"))
        return
    RESULT["info"]["rss_before_kib"] = rss_kib()
    total, first, start = 0, None, time.perf_counter()
    with measure(f"read {mib} MiB"), storage.open(name, "rb") as file:
        while chunk := file.read(1024 * 1024):
            first = first if first is not None else time.perf_counter() - start
            total += len(chunk)
    RESULT["info"]["first_byte_s"] = first
    check("read returns every byte", total == mib * 1024 * 1024, str(total))


def _large_source(workdir: Path, mib: int) -> Path:
    path = workdir / f"large-{mib}.bin"
    if not path.exists():
        block = random.Random(mib).randbytes(1024 * 1024)
        with open(path, "wb") as out:
            for _ in range(mib):
                out.write(block)
    return path


# -- 5. import footprint ----------------------------------------------------------------


def scenario_import() -> None:
    setup_django()
    kind = CONFIG.get("kind", "s3")
    module = CONFIG["classes"][kind].rpartition(".")[0]
    label = {"s3": "S3", "gcs": "GCS"}.get(kind, kind.title())
    with measure(f"import the {label} backend module"):
        __import__(module)


# -- 1. url() on Azure ------------------------------------------------------------------


def scenario_azure_urls() -> None:
    """SAS (account key) and unsigned URLs for 2,000 names, the first call on new storages,
    and a few of each fetched from Azurite (which verifies SAS signatures)."""
    setup_django()
    from django.core.files.base import ContentFile

    cls, options = storage_class("azure"), CONFIG["options"]
    with measure("url: first call on a new storage (first in the process)"):
        cls(**options).url("first/call.jpg")
    for variant, extra in {"": {}, ", unsigned": {"expiration_secs": None}}.items():
        for number in range(20):
            with measure(f"url: first call on another new storage{variant}"):
                cls(**{**options, **extra}).url(f"first/call-{number}.jpg")
    mark("setup")
    samples = URL_NAMES[::499]
    writer = cls(**options)
    for name in samples:
        writer.save(name, ContentFile(name.encode()))
    for variant, extra in {"SAS": {}, "unsigned": {"expiration_secs": None}}.items():
        storage = cls(**{**options, **extra})
        storage.url(URL_NAMES[0])  # builds the client/signer: counted in the first-call row
        with measure(f"url: {variant}", n=len(URL_NAMES)):
            for name in URL_NAMES:
                storage.url(name)
        if variant == "SAS":
            mark("checks")
            _check_fetch(variant, [storage.url(name) for name in samples], samples)


SCENARIOS = {
    "urls": scenario_urls,
    "gcs_urls": scenario_gcs_urls,
    "page": scenario_page,
    "ops": scenario_ops,
    "collectstatic": scenario_collectstatic,
    "large": scenario_large,
    "import": scenario_import,
    "azure_urls": scenario_azure_urls,
}

if __name__ == "__main__":
    rss_start = rss_kib()
    SCENARIOS[sys.argv[1]]()
    RESULT["info"]["rss_start_kib"] = rss_start
    RESULT["info"]["peak_rss_kib"] = rss_kib("VmHWM")
    print(json.dumps(RESULT))
