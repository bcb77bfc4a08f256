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
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from storages_base.errors import NotFoundError, StorageError, TransientError
from storages_base.remote import ConnectionPool, retrying

from .errors import BACKEND, error_for_reply, is_broken, is_transient, reply_code
from .session import Session, TLSSession

__all__ = ["FTPClient", "Location", "parse_location", "redact"]

logger = logging.getLogger("storages.ftp")
T = TypeVar("T")

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
    behind a slow upload. Idle sessions (at most ``pool_size``) are kept for reuse.
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
        self.retries = retries
        self._ssl_context = ssl_context
        self.pool: ConnectionPool[Session] = ConnectionPool(
            self._connect, _quit, max_idle=pool_size, check=_noop, check_after=5.0
        )
        self._orphans: set[str] = set()
        self._orphans_lock = threading.Lock()

    # -- sessions --------------------------------------------------------------------------

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
            if loc.path:
                _enter_root(session, loc.path)
        except BaseException:
            session.close()
            raise
        self._remove_orphans(session)
        return session

    def close(self) -> None:
        """Close the idle sessions; the next operation opens a new one."""
        self.pool.close()

    # -- running operations ----------------------------------------------------------------

    def run(
        self,
        operation: str,
        name: str | None,
        work: Callable[[Session], T],
        can_retry: Callable[[], bool] = lambda: True,
        broken: Callable[[BaseException], bool] = is_broken,
    ) -> T:
        """Run ``work`` on a session; retry transient failures on a new one, map errors."""

        def attempt() -> T:
            with self.pool.connection(broken) as session:
                return work(session)

        return self.call(operation, name, attempt, can_retry)

    def call(
        self,
        operation: str,
        name: str | None,
        attempt: Callable[[], T],
        can_retry: Callable[[], bool] = lambda: True,
    ) -> T:
        """Run ``attempt`` with bounded retries; raise the common errors."""
        try:
            return retrying(
                attempt,
                transient=is_transient,
                attempts=self.retries + 1,
                describe=lambda exc, runs: self._unreachable(exc, runs, name, operation),
                can_retry=can_retry,
            )
        except StorageError:
            raise
        except ftplib.all_errors as exc:
            raise error_for_reply(exc, name=name, operation=operation) from exc
        except UnicodeEncodeError as exc:
            raise StorageError(
                f"the name cannot be written in the {self.encoding} encoding: set "
                "FTP_STORAGE_ENCODING (the encoding option) to 'utf-8' if the server supports it",
                name=name,
                operation=operation,
                backend=BACKEND,
            ) from exc

    def _unreachable(
        self, exc: BaseException, runs: int, name: str | None, operation: str
    ) -> StorageError:
        return TransientError(
            f"FTP server {self.location.host}:{self.location.port} failed "
            f"({type(exc).__name__}: {exc}) after {runs} attempt(s)",
            name=name,
            operation=operation,
            backend=BACKEND,
        )

    # -- temporary files left behind -------------------------------------------------------

    def remove_temporary(self, path: str, session: Session | None = None) -> None:
        """Delete an abandoned upload's temporary file now, or else on the next connect.

        ``session`` is used if it is still in step with the server; otherwise a pooled
        or new one is tried once.
        """
        try:
            if session is not None:
                session.remove(path)
            else:
                with self.pool.connection(is_broken) as fresh:
                    fresh.remove(path)
        except ftplib.all_errors:
            with self._orphans_lock:
                self._orphans.add(path)

    def _remove_orphans(self, session: Session) -> None:
        # A session died mid-upload: its temporary file is deleted by the next session.
        with self._orphans_lock:
            orphans, self._orphans = self._orphans, set()
        for path in orphans:
            try:
                session.remove(path)
            except ftplib.all_errors:
                logger.warning("could not delete the temporary upload %r", path)


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
