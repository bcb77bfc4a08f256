"""Side-by-side benchmarks: ours against django-storages. ``uv run python benchmarks/run.py``.

Arguments: scenario names (default: all) and ``--repeats N``. It (re)creates
``benchmarks/.venv-classic`` with the published django-storages pinned to the workspace's
own boto3/botocore/Django versions, starts the servers (each in its own process) behind
counting proxies, runs every step once per side per repeat, alternating which side goes
first, and prints and writes ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import environments
import proxy
import report
import servers

HERE = Path(__file__).resolve().parent
CLASSIC_VENV = HERE / ".venv-classic"
LAST_RUNS = HERE / ".last-runs.json"  # raw figures of the last run, for --report-only
PINNED = [
    "boto3",
    "botocore",
    "s3transfer",
    "django",
    "cryptography",
    "paramiko",
    "azure-storage-blob",
    "azure-core",
    "google-cloud-storage",
    "google-auth",
    "google-api-core",
    "google-resumable-media",
    "google-crc32c",
    "requests",
]
#: Optional modules the SDKs import when they are installed (botocore's HTTP session and
#: urllib3 import pyOpenSSL: about 35 ms of CPU per process). One installed on one side
#: only (ours: pyOpenSSL is a test tool of the FTP package) is hidden from that side's
#: runs, as if not installed (``equal_terms``).
OPTIONAL_IMPORTS = {"OpenSSL": "pyopenssl"}
#: side -> the optional modules hidden from its runs (set by ``equal_terms``).
HIDDEN: dict[str, list[str]] = {}
CLASSES = {
    "classic": {
        "s3": "storages.backends.s3.S3Storage",
        "static": "storages.backends.s3.S3StaticStorage",
        "manifest": "storages.backends.s3.S3ManifestStaticStorage",
        "ftp": "storages.backends.ftp.FTPStorage",
        "sftp": "storages.backends.sftpstorage.SFTPStorage",
        "azure": "storages.backends.azure_storage.AzureStorage",
        "azure-static": "storages.backends.azure_storage.AzureStorage",
        "gcs": "storages.backends.gcloud.GoogleCloudStorage",
        # django-storages has no static GCS storage: its GoogleCloudStorage, unsigned
        "gcs-static": "storages.backends.gcloud.GoogleCloudStorage",
    },
    "ours": {
        "s3": "storages_s3.S3Storage",
        "static": "storages_s3.S3StaticStorage",
        "manifest": "storages_s3.S3ManifestStaticStorage",
        "ftp": "storages_ftp.FTPStorage",
        "sftp": "storages_sftp.SFTPStorage",
        "azure": "storages_azure.AzureStorage",
        "azure-static": "storages_azure.AzureStaticStorage",
        "gcs": "storages_gcs.GoogleCloudStorage",
        "gcs-static": "storages_gcs.GoogleCloudStaticStorage",
    },
}


#: Providers benchmarked by a script of their own (own server, own classic venv), run by this
#: command too: ``benchmarks/<provider>_side_by_side.py`` prints a Markdown table of
#: ``| measure | classic | ours | ratio |``, which RESULTS.md includes (scenario
#: ``side-by-side-<provider>``) and whose ``...: calls`` rows join the targets table.
SIDE_BY_SIDE = {
    "side-by-side-" + path.name.removesuffix("_side_by_side.py"): path
    for path in sorted(HERE.glob("*_side_by_side.py"))
}


class StepFailed(Exception):
    """A client process exited with an error (its stderr is the message)."""


@dataclass
class Step:
    """One client process: ``scenarios.py <script>`` with these config entries."""

    script: str
    server: str = "s3"
    fresh: bool = True  # empty the store first
    config: dict[str, Any] = field(default_factory=dict)
    max_repeats: int | None = None  # fewer runs than the others (a very slow side)


LARGE_MIB = int(os.environ.get("BENCH_LARGE_MIB", "512"))


def _aws_checksums_step(server: str) -> list[Step]:
    """The S3 save once more with botocore's checksums as against AWS itself (CRC32 per
    part, on both sides). moto is not an AWS endpoint, so ours sends Content-MD5 in the
    first save (an S3-compatible service gets boto3's checksums only when required);
    the classic sends botocore's CRC32 to every endpoint. See benchmarks/README.md."""
    if server != "s3":
        return []
    config = {"provider": "s3", "direction": "save", "checksums": "when_supported"}
    return [Step("large", "s3", config=config)]


#: Runs per side of the per-operation steps at least (``ops-*``: ~10 s each): their
#: ratios sit near 1 for one-request operations, and a median of 9 outlasts a load spike
#: from another process on the 2 shared cores better than one of 3 or 5. A run's figure
#: stays its mean call (total / count): a median call would leave out what a side pays
#: now and then for every call (the classic's garbage collections: S3 ``exists`` 1.3x
#: of our CPU by means, 1.0x by medians), which a user's total time includes.
OPS_MIN_REPEATS = 9
#: Scripts whose two sides run at once, their measured calls alternating one by one
#: (``proxy.Turns``): the per-operation scenario, whose one-request rows differ by less
#: than a shared machine's drift between two runs made one after the other.
LOCKSTEP = {"ops"}


def _collectstatic(kind: str, files: int, title: str, server: str = "s3") -> list[Step]:
    """An empty store, then nothing changed: on our side once with storages_base's
    collectstatic command (listed before staticfiles: uploads in ``storage.batch()``) and
    once with Django's own; the classic side runs Django's command both times."""
    steps = []
    for batch, command in ((True, "storages_base command"), (False, "Django's command")):
        config = {"static_kind": kind, "files": files, "batch": batch}
        steps += [
            Step(
                "collectstatic",
                server,
                config={**config, "label": f"{title}, {command}: empty store"},
            ),
            Step(
                "collectstatic",
                server,
                fresh=False,
                config={**config, "label": f"{title}, {command}: nothing changed"},
            ),
        ]
    return steps


SCENARIOS: dict[str, tuple[str, list[Step]]] = {
    "urls": ("1. url() for 2,000 distinct names (S3), per call", [Step("urls")]),
    **{
        name: (
            f"1b. A page of 100 private images viewed 20 times ({title}), per url()",
            [
                Step("page", server, config={"provider": server}),
                Step("page", server, config={"provider": server, "spread": True}, max_repeats=1),
            ],
        )
        for name, server, title in (
            ("page", "s3", "S3"),
            ("page-gcs", "gcs", "GCS"),
            ("page-azure", "azure", "Azure"),
        )
    },
    "ops-s3": ("2. Per operation, 1 KiB files, S3", [Step("ops", config={"provider": "s3"})]),
    "ops-ftp": (
        "2. Per operation, 1 KiB files, FTP",
        [Step("ops", "ftp", config={"provider": "ftp"})],
    ),
    "ops-sftp": (
        "2. Per operation, 1 KiB files, SFTP",
        [Step("ops", "sftp", config={"provider": "sftp"})],
    ),
    "collectstatic": (
        "3. collectstatic, 500 files of 1-20 KiB (S3StaticStorage), per run",
        _collectstatic("static", 500, "S3StaticStorage, 500 files"),
    ),
    "collectstatic-manifest": (
        "3. collectstatic, 250 files (S3ManifestStaticStorage), per run",
        _collectstatic("manifest", 250, "S3ManifestStaticStorage, 250 files"),
    ),
    **{
        f"large-{server}": (
            f"4. Large file ({LARGE_MIB} MiB), {server.upper()}: save, then read back",
            [
                Step("large", server, config={"provider": server, "direction": "save"}),
                # The classic SFTP read of 512 MiB takes over a minute: read once.
                Step(
                    "large",
                    server,
                    False,
                    {"provider": server, "direction": "read"},
                    max_repeats=1 if server == "sftp" else None,
                ),
                *_aws_checksums_step(server),
            ],
        )
        for server in ("s3", "ftp", "sftp", "gcs")
    },
    "import": ("5. Import footprint", [Step("import")]),
    # -- Azure Blob on Azurite (issue 13) ------------------------------------------------
    "urls-azure": (
        "1. url() for 2,000 distinct names (Azure: SAS and unsigned), per call",
        [Step("azure_urls", "azure", config={"provider": "azure"})],
    ),
    "ops-azure": (
        "2. Per operation, 1 KiB files, Azure",
        [Step("ops", "azure", config={"provider": "azure"})],
    ),
    "collectstatic-azure": (
        "3. collectstatic, 500 files of 1-20 KiB (Azure), per run",
        _collectstatic("azure-static", 500, "AzureStaticStorage, 500 files", "azure"),
    ),
    "large-azure": (
        f"4. Large file ({LARGE_MIB} MiB), AZURE: save, then read back",
        [
            Step("large", "azure", config={"provider": "azure", "direction": "save"}),
            Step("large", "azure", False, {"provider": "azure", "direction": "read"}),
        ],
    ),
    "import-azure": ("5. Import footprint (Azure)", [Step("import", config={"kind": "azure"})]),
    # -- Google Cloud Storage (gcp-storage-emulator) ------------------------------------
    "urls-gcs": (
        "1. url() for 2,000 distinct names (GCS), per call",
        [Step("gcs_urls", "gcs", config={"provider": "gcs"})],
    ),
    "ops-gcs": (
        "2. Per operation, 1 KiB files, GCS",
        [Step("ops", "gcs", config={"provider": "gcs"})],
    ),
    "collectstatic-gcs": (
        "3. collectstatic, 500 files of 1-20 KiB (GCS static storage), per run",
        _collectstatic("gcs-static", 500, "GCS static, 500 files", "gcs"),
    ),
    "import-gcs": (
        "5. Import footprint (GCS)",
        [Step("import", config={"kind": "gcs"})],
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS, *SIDE_BY_SIDE], default=[])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--report-only", action="store_true", help="re-render the last runs")
    args = parser.parse_args()
    chosen = args.scenarios or [*SCENARIOS, *SIDE_BY_SIDE]
    start_load = None if args.report_only else os.getloadavg()[0]
    pythons = {"classic": classic_python(), "ours": sys.executable}
    environments = equal_terms(pythons)
    if args.report_only:
        saved = json.loads(LAST_RUNS.read_text())
        all_runs, skipped, args.repeats = saved["runs"], saved["skipped"], saved["repeats"]
        tables = saved.get("side_by_side", {})
    else:
        scenarios = [c for c in chosen if c in SCENARIOS]
        all_runs, skipped = measure_all(scenarios, pythons, args.repeats)
        tables = side_by_side([c for c in chosen if c in SIDE_BY_SIDE], skipped)
        LAST_RUNS.write_text(
            json.dumps(
                {
                    "runs": all_runs,
                    "skipped": skipped,
                    "repeats": args.repeats,
                    "side_by_side": tables,
                }
            )
        )
    sections = [report.targets(all_runs, tables)]
    for name, title_steps in SCENARIOS.items():
        if name in all_runs:
            sections.append(report.render(title_steps[0], all_runs[name]))
        elif name in skipped:
            sections.append(f"## {title_steps[0]}\n\nNot measured: {skipped[name]}\n")
    for name, path in SIDE_BY_SIDE.items():
        title = f"{name.removeprefix('side-by-side-').title()} side by side (`{path.name}`)"
        if name in tables:
            sections.append(f"## {title}\n\n{tables[name]}")
        elif name in skipped:
            sections.append(f"## {title}\n\nNot measured: {skipped[name]}\n")
    print("\n" + sections[0])
    header = report.header(args.repeats, pythons, environments, start_load)
    Path(args.output).write_text(header + "\n".join(sections))
    print(f"written {args.output}")


def side_by_side(chosen: list[str], skipped: dict[str, str]) -> dict[str, str]:
    """Run each provider's own side-by-side script; its Markdown table by scenario name."""
    tables = {}
    for name in chosen:
        print(f"  {name} ({SIDE_BY_SIDE[name].name})", flush=True)
        done = subprocess.run(
            [sys.executable, str(SIDE_BY_SIDE[name])],
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        table = "\n".join(line for line in done.stdout.splitlines() if line.startswith("|"))
        if done.returncode or not table:
            skipped[name] = f"the script failed: {(done.stderr or done.stdout).strip()[-300:]}"
            continue
        tables[name] = table + "\n"
        print("\n" + tables[name], flush=True)
    return tables


def measure_all(chosen: list[str], pythons: dict[str, str], repeats: int) -> tuple[dict, dict]:
    """Run the chosen scenarios; their runs, and why the others could not run."""
    all_runs: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, str] = {}
    with Harness() as harness:
        for name in chosen:
            title, steps = SCENARIOS[name]
            missing = harness.unavailable(name, steps, pythons)
            if missing:
                print(f"\n## {title}\n\nskipped: {missing}\n", flush=True)
                skipped[name] = missing
                continue
            try:
                all_runs[name] = harness.run(name, steps, pythons, repeats)
            except StepFailed as exc:  # one broken scenario does not lose the others
                print(exc, flush=True)
                skipped[name] = f"failed:\n\n```\n{exc}\n```"
                continue
            print("\n" + report.render(title, all_runs[name]), flush=True)
    return all_runs, skipped


def classic_python() -> str:
    """Create or refresh the baseline's venv, pinned to the workspace's SDK and Django."""
    return environments.classic_venv(CLASSIC_VENV, "s3,sftp,azure,google", PINNED)


def equal_terms(pythons: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``environments.equal_terms``; the optional modules one side alone has are hidden."""
    described = environments.equal_terms(pythons, PINNED, OPTIONAL_IMPORTS)
    for side, description in described.items():
        HIDDEN[side] = description["hidden"]
    return described


def _memory_dir() -> str | None:
    """A RAM-backed folder (``/dev/shm``) for the servers' files, if there is one.

    Large files written to disk leave dirty pages that the kernel writes back later;
    whichever run happens to be throttled by that writeback is slowed by the machine's
    disk, not by the client. In memory, like moto's objects, no run pays for another.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30:
        return str(shm)
    return None


class Harness:
    """The servers, the counting proxies and the control port shared by every run."""

    def __enter__(self) -> Harness:
        self.workdir = Path(tempfile.mkdtemp(prefix="storages-bench-", dir=_memory_dir()))
        self.counts = proxy.Counts()
        self.turns = proxy.Turns(self.counts)
        self.pairs = itertools.count()  # run_pair's runs, numbered
        self.control = proxy.start_control(self.counts, self.turns)
        self.moto = servers.start_moto(self.workdir)
        self.s3_proxy = proxy.start_http_proxy(self.moto.port, self.counts)
        self.ftp_root = self.workdir / "ftp"
        self.ftp_root.mkdir()
        self.ftp = servers.start_ftp(self.ftp_root)
        self.ftp_proxy = proxy.start_ftp_proxy(self.ftp.port, self.counts)
        (self.workdir / "sshd").mkdir()
        self.sshd = servers.start_sshd(self.workdir / "sshd")
        self.sftp_root = self.workdir / "sftp"
        if self.sshd:
            roots = {side: f'"{self.sftp_root / side}/' for side in CLASSES}
            self.counts.log = proxy.LogCounter(self.workdir / "sshd", roots)
        self.sftp_root.mkdir()
        self.azurite = servers.start_azurite(self.workdir)
        self.azure_proxy = (
            proxy.start_http_proxy(self.azurite.port, self.counts) if self.azurite else None
        )
        self.azure_round = 0  # each fresh store is a new container
        self.gcs = servers.start_gcs()
        self.gcs_proxy = proxy.start_http_proxy(self.gcs.port, self.counts)
        self.gcs_sa = _service_account()
        return self

    def __exit__(self, *exc: object) -> None:
        servers_ = (self.moto, self.ftp, self.sshd[0] if self.sshd else None, self.azurite)
        for server in (*servers_, self.gcs):
            if server:
                server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def options(self, server: str, side: str) -> dict[str, Any]:
        """The storage options, the same for both sides."""
        if server == "s3":
            return {
                "bucket_name": f"bench-{side}",
                "endpoint_url": f"http://127.0.0.1:{self.s3_proxy.server_address[1]}",
                "access_key": "bench-access",
                "secret_key": "bench-secret",
                "region_name": "us-east-1",
                "signature_version": "s3v4",
            }
        if server == "azure":
            assert self.azure_proxy is not None, "no Azurite"
            port = self.azure_proxy.server_address[1]
            return {
                "azure_container": f"bench-{side}-{self.azure_round}",
                "connection_string": servers.azurite_connection_string(port),
                "expiration_secs": 3600,
            }
        if server == "gcs":  # no credentials: the SDK talks to the emulator anonymously
            return {"bucket_name": f"bench-{side}"}
        if server == "ftp":
            port = self.ftp_proxy.server_address[1]
            return {"location": f"ftp://bench:bench@127.0.0.1:{port}/{side}/"}
        assert self.sshd, "no sshd"
        info = self.sshd[1]
        params = {**info["params"], "port": info["port"], "look_for_keys": False}
        return {
            "host": "127.0.0.1",
            "params": {**params, "allow_agent": False},
            "root_path": str(self.sftp_root / side),
            "known_host_file": info["known_hosts"],
        }

    def empty(self, server: str, sides: list[str]) -> None:
        """A new empty store for each of ``sides`` (moto and the GCS emulator are wiped)."""
        if server == "azure":
            self.azure_round += 1
        elif server == "s3":
            moto = f"http://127.0.0.1:{self.moto.port}"
            urllib.request.urlopen(urllib.request.Request(f"{moto}/moto-api/reset", method="POST"))
        elif server == "gcs":
            urllib.request.urlopen(f"http://127.0.0.1:{self.gcs.port}/wipe").read()
        for side in sides:
            self._new_store(server, side)

    def _new_store(self, server: str, side: str) -> None:
        if server == "azure":
            servers.azurite_container(self.azurite, f"bench-{side}-{self.azure_round}")
        elif server == "s3":
            moto = f"http://127.0.0.1:{self.moto.port}"
            request = urllib.request.Request(f"{moto}/bench-{side}", method="PUT")
            urllib.request.urlopen(request).read()
        elif server == "gcs":
            body = json.dumps({"name": f"bench-{side}"}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.gcs.port}/storage/v1/b?project=bench",
                data=body,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            urllib.request.urlopen(request).read()
        else:
            root = (self.ftp_root if server == "ftp" else self.sftp_root) / side
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()

    def unavailable(self, name: str, steps: list[Step], pythons: dict[str, str]) -> str:
        """Why a scenario cannot run yet (a package not importable, no sshd), or ''."""
        if steps[0].server == "sftp" and not self.sshd:
            return "OpenSSH's sshd is not installed (apt-get install openssh-server)"
        if steps[0].server == "azure" and not self.azurite:
            return "Azurite is not installed (npm ci at the repo root)"
        kinds = {
            s.config.get("provider") or s.config.get("static_kind") or s.config.get("kind") or "s3"
            for s in steps
        }
        for side, python in pythons.items():
            for kind in kinds:
                module, _, cls = CLASSES[side][kind].rpartition(".")
                probe = f"import django; from {module} import {cls}"
                if subprocess.run([python, "-c", probe], capture_output=True).returncode:
                    return f"{CLASSES[side][kind]} cannot be imported in the {side} environment"
        return ""

    def run(self, name: str, steps: list[Step], pythons: dict[str, str], repeats: int) -> list:
        """Every step once per side per repeat, alternating the side that goes first; a
        ``LOCKSTEP`` step runs both sides at once, in turns (``proxy.Turns``)."""
        runs: list[dict[str, Any]] = []
        total = max(repeats, OPS_MIN_REPEATS) if any(s.script == "ops" for s in steps) else repeats
        for repeat in range(total):
            sides = ["classic", "ours"] if repeat % 2 == 0 else ["ours", "classic"]
            for side in sides:
                for step in steps:
                    if step.max_repeats is not None and repeat >= step.max_repeats:
                        continue
                    if step.script in LOCKSTEP and side != sides[0]:
                        continue  # ran with the first side
                    what = " and ".join(sides) if step.script in LOCKSTEP else side
                    print(f"  {name} {repeat + 1}/{total} {what} {step.config}", flush=True)
                    if step.script in LOCKSTEP:
                        runs += self.run_pair(step, sides, pythons)
                    else:
                        runs.append({"side": side, **self.run_step(step, side, pythons[side])})
        return runs

    def run_step(self, step: Step, side: str, python: str) -> dict[str, Any]:
        if step.fresh:
            self.empty(step.server, [side])
        argv, env = self._client(step, side, python)
        self.counts.reset()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=self.workdir)
        return _result(side, step, done, self.counts.snapshot())

    def run_pair(
        self, step: Step, order: list[str], pythons: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Both sides' processes at once, in lockstep: their measured calls alternate one by
        one (``proxy.Turns``), ``order[0]`` first; a run per side."""
        if step.fresh:
            self.empty(step.server, order)
        clients = {side: self._client(step, side, pythons[side], lockstep=True) for side in order}
        self.counts.reset()
        self.turns.start(order)
        done: dict[str, subprocess.CompletedProcess[str]] = {}

        def client(side: str) -> None:
            argv, env = clients[side]
            try:
                done[side] = subprocess.run(
                    argv, env=env, capture_output=True, text=True, cwd=self.workdir
                )
            finally:
                self.turns.exited(side)

        threads = [threading.Thread(target=client, args=(side,)) for side in order]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = {side: self.counts.snapshot(side) for side in order}
        pair = next(self.pairs)
        return [
            {"side": side, "pair": pair, **_result(side, step, done[side], counts[side])}
            for side in order
        ]

    def _client(
        self, step: Step, side: str, python: str, lockstep: bool = False
    ) -> tuple[list[str], dict[str, str]]:
        """The command line and environment of one side's client process."""
        config = {
            **step.config,
            "side": side,
            "lockstep": lockstep,
            "classes": CLASSES[side],
            "options": self.options(step.server, side),
            "control": f"http://127.0.0.1:{self.control.server_address[1]}",
            "s3_port": self.s3_proxy.server_address[1],
            "workdir": str(self.workdir),
            "mib": LARGE_MIB,
            "hidden_modules": HIDDEN.get(side, []),
        }
        if step.server == "gcs":
            config["gcs_service_account"] = self.gcs_sa
        env = {**os.environ, "BENCH_CONFIG": json.dumps(config), "PYTHONDONTWRITEBYTECODE": "1"}
        if step.server == "gcs":  # the SDK's own switch, on both sides
            env["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{self.gcs_proxy.server_address[1]}"
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return [python, str(HERE / "scenarios.py"), step.script], env


def _result(
    side: str, step: Step, done: subprocess.CompletedProcess[str], requests: dict[str, Any]
) -> dict[str, Any]:
    """A client process's JSON line, with the requests the servers saw for it."""
    if done.returncode:
        raise StepFailed(f"{side} {step.script} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["requests"] = requests
    return result


def _service_account() -> dict[str, str]:
    """A service-account key made up for the run: both sides sign GCS URLs with it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "client_email": "bench@bench-project.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "0" * 40,
        "token_uri": f"http://127.0.0.1:{servers.free_port()}/token",  # never asked
        "project_id": "bench-project",
    }


if __name__ == "__main__":
    main()
