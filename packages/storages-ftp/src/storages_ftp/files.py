"""A download over an FTP data connection, read as it arrives.

A download holds its session while the bytes flow (FTP runs one transfer per
session) and gives it back to the pool when the transfer ends or the file is closed;
closing early aborts the transfer and keeps the session if the server answers.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import socket
import ssl
from typing import Any

from storages_base.errors import TransientError
from storages_base.remote import ConnectionPool

from .errors import BACKEND, error_for_reply, is_broken
from .session import Session

__all__ = ["RetrStream"]

#: How long closing an unfinished download waits for the server's 426/226 reply.
ABORT_TIMEOUT = 5.0


class RetrStream(io.RawIOBase):
    """The bytes of one RETR, read from its data connection as the caller asks."""

    def __init__(
        self,
        pool: ConnectionPool[Session],
        session: Session,
        data: socket.socket,
        *,
        name: str,
        expected: int | None = None,
    ) -> None:
        super().__init__()
        self._pool = pool
        self._session: Session | None = session
        self._data: socket.socket | None = data
        self._name = name
        self._expected = expected  # bytes the server said it would send, when known
        # TLS data connections end with a close_notify after the last byte; they wait for it.
        self._plain = not isinstance(data, ssl.SSLSocket)
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._data is None:
            return 0
        try:
            count = self._data.recv_into(buffer)
        except OSError as exc:
            self._give_back(exc)
            raise self._error(exc, "the download was interrupted") from exc
        self._received += count
        if count == 0:
            self._finish()
        elif self._expected is not None and self._received >= self._expected and self._plain:
            # All the bytes announced are here (the reader above asks for no more): end
            # the transfer now, not on close(), so the session goes back to the pool for
            # the caller's next call instead of a new login. More bytes mean the file was
            # replaced by a longer one between its size (MLST) and the RETR: what came is
            # not the file the size was of, and is refused rather than cut to that size.
            if self._received > self._expected or not self._at_end():
                self._abort()
                raise self._changed()
            self._finish()
        return count

    def _at_end(self) -> bool:
        """Whether the server closed the data connection after the bytes received."""
        assert self._data is not None
        try:
            return self._data.recv(1, socket.MSG_PEEK) == b""
        except OSError as exc:
            self._give_back(exc)
            raise self._error(exc, "the download was interrupted") from exc

    def _changed(self) -> TransientError:
        return TransientError(
            f"the download ended after {self._received} of {self._expected} bytes "
            "(the file changed while it was read, or the transfer was cut)",
            name=self._name,
            operation="open",
            backend=BACKEND,
        )

    def _finish(self) -> None:
        data, self._data = self._data, None
        assert data is not None
        assert self._session is not None
        try:
            if isinstance(data, ssl.SSLSocket):
                data.unwrap()  # a clean TLS close, which some servers insist on
            data.close()
            self._session.voidresp()
        except ftplib.all_errors as exc:
            self._give_back(exc)
            raise self._error(exc, "the download did not complete") from exc
        if self._expected is not None and self._received != self._expected:
            self._give_back(None)
            raise self._changed()
        self._give_back(None)

    def close(self) -> None:
        if self._data is not None:
            self._abort()
        super().close()

    def _abort(self) -> None:
        # Closing the data connection ends the transfer; the server then answers 426
        # (or 226 if it had sent everything), after which the session is reusable.
        data, self._data = self._data, None
        assert data is not None
        assert self._session is not None
        data.close()
        try:
            if self._session.sock is not None:
                self._session.sock.settimeout(ABORT_TIMEOUT)
            with contextlib.suppress(ftplib.error_temp, ftplib.error_perm):
                self._session.voidresp()
            if self._session.sock is not None:
                self._session.sock.settimeout(self._session.timeout)
        except (ftplib.Error, OSError, EOFError, ValueError) as exc:
            self._give_back(exc)
        else:
            self._give_back(None)

    def _give_back(self, exc: BaseException | None) -> None:
        session, self._session = self._session, None
        self._data = None
        if session is None:
            return
        if exc is None or not is_broken(exc):
            self._pool.release(session)
        else:
            self._pool.discard(session)

    def _error(self, exc: BaseException, message: str) -> Exception:
        if isinstance(exc, (OSError, EOFError)):
            return TransientError(
                f"{message}: {exc}", name=self._name, operation="open", backend=BACKEND
            )
        return error_for_reply(exc, name=self._name, operation="open")
