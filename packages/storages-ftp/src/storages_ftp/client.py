"""The server's address (the location URL) and a pool of sessions to it.

:class:`FTPClient` opens sessions lazily, lends each to one thread at a time (ftplib
sessions are not thread-safe), and runs every operation through bounded retries: a
session the server dropped or timed out is replaced by a new one, transparently.
"""

from __future__ import annotations

import codecs
import ftplib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from storages_base.errors import NotFoundError, StorageError, TransientError
from storages_base.remote import ConnectionPool, Sessions

from .errors import BACKEND, error_for_reply, is_broken, reply_code
from .session import Session, TLSSession

__all__ = ["FTPClient", "Location", "parse_location", "redact"]

logger = logging.getLogger("storages.ftp")

SCHEMES = {"ftp": "plain FTP", "ftps": "explicit TLS", "aftp": "active mode"}
EXAMPLE = "ftp://user:password@host:21/path"


@dataclass(frozen=True)
class Location:
    """Where the files are: parsed from ``ftp[s]|aftp://user:password@host:port/path``."""

    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    path: str  # the root folder; "" is the login folder

    @property
    def tls(self) -> bool:
        return self.scheme == "ftps"

    @property
    def passive(self) -> bool:
        return self.scheme != "aftp"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}{self.path}"


def redact(url: str) -> str:
    """Return ``url`` with the password replaced by ``***`` (for error messages)."""
    return re.sub(r"^([^:/?#]*://[^:/@]*:).*@", r"\1***@", url)


def parse_location(url: object) -> Location:
    """Parse the location URL; raise ImproperlyConfigured, never showing the password."""
    if not url or not isinstance(url, str):
        raise ImproperlyConfigured(
            f"FTPStorage needs a location: set FTP_STORAGE_LOCATION to {EXAMPLE!r}."
        )
    shown = redact(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        _unquoted_userinfo(url, shown)
        raise ImproperlyConfigured(
            f"FTP_STORAGE_LOCATION {shown!r} is not a valid URL: the port must be a number "
            f"from 1 to 65535 (example: {EXAMPLE!r})."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ImproperlyConfigured(
            f"FTP_STORAGE_LOCATION {shown!r} must start with ftp://, ftps:// (explicit TLS) "
            f"or aftp:// (active mode)."
        )
    if not parts.hostname or parts.query or parts.fragment:
        _unquoted_userinfo(url, shown)
    if not parts.hostname:
        raise ImproperlyConfigured(f"FTP_STORAGE_LOCATION {shown!r} names no host.")
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"FTP_STORAGE_LOCATION {shown!r} contains '?' or '#'.")
    return Location(
        scheme=scheme,
        host=parts.hostname,
        port=port or 21,
        user=unquote(parts.username) if parts.username else "anonymous",
        password=unquote(parts.password or ""),
        path=unquote(parts.path),
    )


def _unquoted_userinfo(url: str, shown: str) -> None:
    """Explain a password that breaks the URL because its special characters are not quoted."""
    userinfo = re.match(r"^[^:/?#]*://(.*)@", url)
    if userinfo and any(char in userinfo.group(1) for char in "/?#"):
        raise ImproperlyConfigured(
            f"FTP_STORAGE_LOCATION {shown!r} is not a valid URL: quote special characters "
            "of the user name and password with urllib.parse.quote(value, safe='')."
        )


def check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ImproperlyConfigured(
            f"FTP_STORAGE_ENCODING {encoding!r} is not an encoding."
        ) from None


class FTPClient:
    """Sessions to one server: opened lazily, pooled, reopened after a drop.

    A pool rather than one locked session: an open file holds its session while its
    data streams (FTP allows one transfer per session), and threads do not queue
    behind a slow upload. Idle sessions (at most ``pool_size``) are kept for reuse;
    :attr:`sessions` runs operations on them with retries (``storages_base.remote``).
    """

    def __init__(
        self,
        location: Location,
        *,
        encoding: str = "latin-1",
        timeout: float | None = 30.0,
        retries: int = 2,
        pool_size: int = 4,
        ssl_context: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self.location = location
        self.encoding = encoding
        self.timeout = timeout
        self._ssl_context = ssl_context
        self.pool: ConnectionPool[Session] = ConnectionPool(
            self._connect, _quit, max_idle=pool_size, check=_noop, check_after=5.0
        )
        self.sessions: Sessions[Session] = Sessions(
            self.pool,
            translate=self._translate,
            broken=lambda exc, error: is_broken(exc),
            remove=lambda session, path: session.remove(path),
            attempts=retries + 1,
            describe=self._unreachable,
        )

    def _connect(self) -> Session:
        loc = self.location
        session: Session
        if loc.tls:
            context = self._ssl_context() if self._ssl_context else ssl.create_default_context()
            session = TLSSession(context=context, timeout=self.timeout)
        else:
            session = Session(timeout=self.timeout)
        session.encoding = self.encoding
        try:
            session.connect(loc.host, loc.port)
            session.login(loc.user, loc.password)  # FTP_TLS sends AUTH TLS first
            if isinstance(session, TLSSession):
                session.prot_p()
            session.set_pasv(loc.passive)
            session.read_features()
            if "UTF8" in session.features and codecs.lookup(self.encoding).name == "utf-8":
                _quietly(session.sendcmd, "OPTS UTF8 ON")
            if session.fewer_facts:
                _quietly(session.sendcmd, f"OPTS MLST {session.fewer_facts}")
            if loc.path:
                _enter_root(session, loc.path)
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        """Close the idle sessions; the next operation opens a new one."""
        self.pool.close()

    def _translate(
        self, exc: BaseException, session: Session | None, name: str | None, operation: str
    ) -> BaseException:
        """Return the common error for an ftplib or socket failure (others pass)."""
        if isinstance(exc, ftplib.all_errors):
            return error_for_reply(exc, name=name, operation=operation)
        if isinstance(exc, UnicodeEncodeError):
            return StorageError(
                f"the name cannot be written in the {self.encoding} encoding: set "
                "FTP_STORAGE_ENCODING (the encoding option) to 'utf-8' if the server supports it",
                name=name,
                operation=operation,
                backend=BACKEND,
            )
        return exc

    def _unreachable(
        self, exc: BaseException, runs: int, name: str | None, operation: str
    ) -> StorageError:
        cause = exc.__cause__ or exc
        return TransientError(
            f"FTP server {self.location.host}:{self.location.port} failed "
            f"({type(cause).__name__}: {cause}) after {runs} attempt(s)",
            name=name,
            operation=operation,
            backend=BACKEND,
        )


def _enter_root(session: Session, path: str) -> None:
    """Make the location's folder the session's working folder, creating it if missing."""
    try:
        session.cwd(path)
    except ftplib.error_perm as exc:
        if reply_code(exc) != 550:
            raise
        session.makedirs(path)
        try:
            session.cwd(path)
        except ftplib.error_perm as again:
            raise NotFoundError(
                f"the location's folder {path!r} does not exist and could not be created ({again})",
                operation="connect",
                backend=BACKEND,
            ) from again


def _quit(session: Session) -> None:
    try:
        if session.sock is not None:
            session.sock.settimeout(2)
        session.quit()
    except ftplib.all_errors:
        session.close()


def _noop(session: Session) -> None:
    session.voidcmd("NOOP")


def _quietly(command: Callable[[str], object], line: str) -> None:
    try:
        command(line)
    except ftplib.error_perm as exc:
        logger.debug("server refused %r: %s (code %s)", line, exc, reply_code(exc))
