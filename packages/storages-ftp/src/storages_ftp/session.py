"""One logged-in FTP session and the commands a storage needs from it.

:class:`Session` is an :class:`ftplib.FTP` that knows the server's features (FEAT)
and its transfer type, and turns the storage's questions (what is this name, list
this folder, store this stream, replace that file) into commands, with fallbacks
for servers without MLST/MLSD. It raises ftplib's errors; the client maps them.
"""

from __future__ import annotations

import contextlib
import ftplib
import posixpath
import socket
import ssl
import struct
from typing import IO, Any, BinaryIO

from storages_base.remote import temporary_name

from .errors import NOT_IMPLEMENTED, reply_code
from .listing import (
    FILE,
    FOLDER,
    Entry,
    parse_facts,
    parse_list,
    parse_mlst,
    parse_names,
    parse_time,
)

__all__ = ["Session", "ShortUpload", "TLSSession"]

#: Bytes read and sent per call of an upload: with a blocking socket, 64 KiB sent a
#: 512 MiB file fastest to pyftpdlib (8 KiB costs more client CPU, 256 KiB more server CPU).
BLOCK_SIZE = 64 * 1024
#: Bytes asked for per ``recv`` of a listing (a 200-file MLSD is about 20 KiB).
LISTING_BLOCK = 64 * 1024


class ShortUpload(ftplib.error_temp):
    """The server stored fewer bytes than were sent: the data connection was cut."""


class Session(ftplib.FTP):
    """An ftplib session that remembers the server's features and its transfer type."""

    binary = False
    features: frozenset[str] = frozenset()
    #: ``OPTS MLST`` argument asking only for the facts the storage reads, when the server
    #: sends more by default ("" when it sends no more, or has no MLST).
    fewer_facts = ""

    def putcmd(self, line: str) -> None:
        # ftplib switches to TYPE A for listings and to TYPE I for transfers without
        # saying so; tracking it here saves a round trip per SIZE or RETR.
        if line[:5].upper() == "TYPE ":
            self.binary = line[5:].strip().upper() == "I"
        super().putcmd(line)

    def binary_mode(self) -> None:
        """Switch to TYPE I: SIZE is refused in ASCII mode, and transfers need it."""
        if not self.binary:
            self.voidcmd("TYPE I")

    def read_features(self) -> None:
        try:
            response = self.sendcmd("FEAT")
        except ftplib.error_perm:
            self.features = frozenset()
            return
        lines = [line.strip() for line in response.splitlines()[1:-1]]
        self.features = frozenset(name for line in lines if (name := line.split(" ", 1)[0].upper()))
        mlst = next((line for line in lines if line.upper().startswith("MLST ")), "")
        self.fewer_facts = _fewer_facts(mlst[5:])

    # -- questions -------------------------------------------------------------------------

    def entry(self, path: str) -> Entry:
        """Return what ``path`` is; raise ``error_perm`` (550) when it does not exist."""
        path = path or "."  # the root itself: an empty argument is a syntax error (501)
        if "MLST" in self.features:
            try:
                entry = parse_mlst(self.sendcmd(f"MLST {path}"))
            except ftplib.error_perm as exc:
                if reply_code(exc) not in NOT_IMPLEMENTED:
                    raise
                self.features -= {"MLST"}
            else:
                if entry is not None:
                    return entry
        return self._entry_without_mlst(path)

    def _entry_without_mlst(self, path: str) -> Entry:
        self.binary_mode()
        try:
            size = self.size(path)
        except ftplib.error_perm:
            folder = self._find_in_parent(path)
            if folder is None:
                raise
            return folder
        return Entry(posixpath.basename(path), FILE, size=size, modified=self._mdtm(path))

    def _mdtm(self, path: str) -> Any:
        try:
            return parse_time(self.sendcmd(f"MDTM {path}")[4:])
        except ftplib.error_perm:
            return None

    def _find_in_parent(self, path: str) -> Entry | None:
        parent, base = posixpath.split(path.rstrip("/"))
        for entry in self.entries(parent):
            if entry.name == base:
                return entry
        return None

    def exists(self, path: str) -> bool:
        try:
            self.entry(path)
        except ftplib.error_perm as exc:
            if reply_code(exc) == 550:
                return False
            raise
        return True

    def entries(self, path: str) -> list[Entry]:
        """List ``path`` ("" is the root): MLSD where the server has it, else LIST."""
        lines = self._listing(path)
        if lines is not None:
            found = (parse_facts(line) for line in lines)
            return [entry for entry in found if entry is not None]
        return parse_list(self.lines(f"LIST{_argument(path)}"))

    def names(self, path: str) -> list[tuple[str, bool]]:
        """``(name, is a folder)`` for each entry of ``path``: what a listdir needs."""
        lines = self._listing(path)
        if lines is not None:
            return parse_names(lines)
        entries = parse_list(self.lines(f"LIST{_argument(path)}"))
        return [(entry.name, entry.kind == FOLDER) for entry in entries]

    def _listing(self, path: str) -> list[str] | None:
        """The MLSD lines of ``path``; None when the server has no MLSD."""
        if "MLST" not in self.features:
            return None
        try:
            return self.lines(f"MLSD{_argument(path)}")
        except ftplib.error_perm as exc:
            if reply_code(exc) not in NOT_IMPLEMENTED:
                raise
            self.features -= {"MLST"}
            return None

    def lines(self, command: str) -> list[str]:
        """The text lines a listing command sends on its data connection.

        ftplib's ``retrlines`` sends TYPE A every time and reads the data line by
        line through a text file; this sends TYPE only when the session is in
        binary mode, reads the data in large blocks and splits it once.
        """
        if self.binary:
            self.voidcmd("TYPE A")
        chunks: list[bytes] = []
        with self.transfercmd(command) as conn:
            while block := conn.recv(LISTING_BLOCK):
                chunks.append(block)
            if isinstance(conn, ssl.SSLSocket):
                conn.unwrap()  # a TLS close_notify, as ftplib sends
        self.voidresp()
        text = b"".join(chunks).decode(self.encoding)
        # Lines end in CRLF (LF from some servers); a lone CR may be part of a name.
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and not lines[-1]:
            lines.pop()
        return lines

    # -- changes ---------------------------------------------------------------------------

    def makedirs(self, folder: str) -> None:
        """Create ``folder`` and its missing parents (MKD is not recursive)."""
        lead = "/" if folder.startswith("/") else ""
        parts = [part for part in folder.split("/") if part]
        for depth in range(1, len(parts) + 1):
            # An error means it exists, or cannot be made: what follows says so.
            with contextlib.suppress(ftplib.error_perm):
                self.mkd(lead + "/".join(parts[:depth]))

    def store(self, path: str, source: BinaryIO) -> None:
        """STOR ``source`` to ``path``, creating the folder if the server says it is missing."""
        try:
            self._stor(path, source)
        except ftplib.error_perm as exc:
            folder = posixpath.dirname(path)
            if reply_code(exc) != 550 or not folder or _consumed(source):
                raise
            self.makedirs(folder)
            self._stor(path, source)

    def _stor(self, path: str, source: BinaryIO) -> None:
        """ftplib's ``storbinary``, sending through a blocking socket where it can."""
        self.binary_mode()
        sent = 0
        with self.transfercmd(f"STOR {path}") as conn:
            _kernel_timeout(conn, self.timeout)
            while block := source.read(BLOCK_SIZE):
                try:
                    conn.sendall(block)
                except BlockingIOError as exc:  # SO_SNDTIMEO ran out
                    raise TimeoutError(f"timed out sending {path}") from exc
                sent += len(block)
            if isinstance(conn, ssl.SSLSocket):
                conn.unwrap()  # a TLS close_notify, as ftplib sends
        self.voidresp()
        self._check_stored(path, sent)

    def _check_stored(self, path: str, sent: int) -> None:
        """Raise :class:`ShortUpload` unless the server holds all ``sent`` bytes of ``path``.

        In stream mode the end of the data connection is the end of the file: a
        connection cut cleanly in the middle (a proxy, a NAT or a server-side drop
        after the client's last send) stores a short file and still answers 226, and
        FTP has no checksum. One SIZE (MLST without it) catches that before the rename.
        """
        stored = self._stored_size(path)
        if stored is not None and stored != sent:
            raise ShortUpload(f"the server stored {stored} of the {sent} bytes sent to {path}")

    def _stored_size(self, path: str) -> int | None:
        """The size of the file ``path`` as the server says; None when it cannot say."""
        try:
            if "SIZE" in self.features:
                return self.size(path)
            if "MLST" in self.features:
                return self.entry(path).size
        except ftplib.error_perm as exc:
            if reply_code(exc) not in NOT_IMPLEMENTED:
                raise
            self.features -= {"SIZE"}
        return None

    def replace(self, source: str, target: str, exclusive: bool) -> bool:
        """Rename ``source`` to ``target``; return False if ``exclusive`` and it exists.

        RNTO replaces an existing file on most servers; some (IIS, Windows servers)
        refuse. Then the old file is moved aside first and put back if the rename
        still fails, so a good file is never lost.
        """
        if exclusive and self.exists(target):
            return False
        try:
            self.rename(source, target)
        except ftplib.error_perm:
            if exclusive or not self.exists(target):
                raise
            self._replace_aside(source, target)
        return True

    def _replace_aside(self, source: str, target: str) -> None:
        aside = temporary_name(target)
        self.rename(target, aside)
        try:
            self.rename(source, target)
        except BaseException:
            self.rename(aside, target)
            raise
        self.remove(aside)

    def remove(self, path: str) -> None:
        """Delete a file (or an empty folder); a missing name is not an error."""
        try:
            self.delete(path)
        except ftplib.error_perm as exc:
            if reply_code(exc) != 550:
                raise
            try:
                entry = self.entry(path)
            except ftplib.error_perm:
                return  # it is gone: deleting is idempotent
            if entry.kind != FOLDER:
                raise
            self.rmd(path)


def _kernel_timeout(conn: socket.socket, timeout: float | None) -> None:
    """Make a plain data socket blocking, with the timeout kept by the kernel.

    With a Python timeout, every ``sendall`` waits in ``poll`` and sends what fits,
    so the server gets many small reads: pyftpdlib spent 15-20% more CPU, and a
    512 MiB upload took as much longer. ``SO_SNDTIMEO`` keeps the same limit without
    it. TLS sockets, and systems that refuse the option, keep Python's timeout.
    """
    if isinstance(conn, ssl.SSLSocket) or not timeout or timeout <= 0:
        return
    seconds = int(timeout)
    limit = struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000))
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
    except (OSError, AttributeError):
        return
    conn.settimeout(None)


class TLSSession(Session, ftplib.FTP_TLS):
    """A session over explicit TLS (AUTH TLS) that reuses its TLS session for data.

    Servers such as vsftpd (``require_ssl_reuse``) refuse data connections that do
    not resume the control connection's TLS session; ftplib does not resume it.
    """

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


#: The MLST/MLSD facts the storage reads (kind, size, modified time).
FACTS_READ = ("type", "size", "sizd", "modify")


def _fewer_facts(facts: str) -> str:
    """The ``OPTS MLST`` argument that drops the facts nobody reads, or "" if none are sent.

    FEAT lists the server's facts, enabled ones marked ``*``. Each fact sent costs the
    server per file of a listing: pyftpdlib spent about 15% of a 200-file MLSD on the
    permissions and unique ids this storage never reads.
    """
    names = [fact.strip() for fact in facts.split(";") if fact.strip()]
    enabled = {name.rstrip("*").lower() for name in names if name.endswith("*")}
    wanted = [name.rstrip("*") for name in names if name.rstrip("*").lower() in FACTS_READ]
    if not wanted or enabled <= {name.lower() for name in wanted}:
        return ""
    return "".join(f"{name};" for name in wanted)


def _argument(path: str) -> str:
    """A command's path argument ("" lists the session's current folder)."""
    return f" {path}" if path else ""


def _consumed(source: IO[bytes]) -> bool:
    """Whether an upload already read from ``source`` (then it cannot be sent again)."""
    return bool(getattr(source, "consumed", True))
