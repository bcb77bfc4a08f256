"""A private OpenSSH sshd on 127.0.0.1 for tests and demos: own config, host key and
client key, so nothing of the machine's own SSH setup is used or changed.

Used by this package's tests, the demo site and anyone testing an SFTP configuration
(it needs OpenSSH's ``sshd`` binary, e.g. Debian's ``openssh-server``). It can be
stopped (every session process with it, as a crashed or rebooted server would) and
started again on the same port with the same host key.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storages_base.testing import free_port, wait_port

SSHD_BINARY = "/usr/sbin/sshd"

CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
Subsystem sftp {subsystem}
"""


def write_ed25519_key(path: Path) -> str:
    """Write a new private key at ``path`` (OpenSSH format, mode 600); return the public line."""
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def encrypt_key(source: str | Path, target: Path, passphrase: str) -> Path:
    """Write the private key at ``source`` again at ``target``, encrypted with
    ``passphrase`` (OpenSSH format, mode 600): the same key, so the server still knows it."""
    key = serialization.load_ssh_private_key(Path(source).read_bytes(), None)
    target.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    target.chmod(0o600)
    return target


class SSHServer:
    """An sshd whose files live in ``directory``; ``start()`` it, then ``stop()`` it."""

    def __init__(self, directory: Path, subsystem: str = "internal-sftp") -> None:
        """``subsystem`` is the sshd_config command serving SFTP (e.g. a logging sftp-server)."""
        self.dir = directory
        self.port = free_port()
        self.host_public = write_ed25519_key(directory / "host_key")
        client_public = write_ed25519_key(directory / "client_key")
        (directory / "authorized_keys").write_text(client_public + "\n")
        (directory / "sshd_config").write_text(
            CONFIG.format(port=self.port, d=directory, subsystem=subsystem)
        )
        (directory / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {self.host_public}\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        with open(self.dir / "sshd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [SSHD_BINARY, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        """Kill the listener and every session it started (each session is its own group)."""
        if self.proc is None:
            return
        for pid in [*descendants(self.proc.pid), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None
        _wait_closed(self.port)

    def restart(self) -> None:
        self.stop()
        self.start()

    def address(self) -> dict[str, Any]:
        """Connection details: host, port, username, key and known_hosts files."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": getpass.getuser(),
            "key_filename": str(self.dir / "client_key"),
            "known_host_file": str(self.dir / "known_hosts"),
            "host_public": self.host_public,
            "server": self,
        }


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (sshd's sessions call setsid(), so killpg misses them)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _wait_closed(port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
        except OSError:
            return
        time.sleep(0.05)
