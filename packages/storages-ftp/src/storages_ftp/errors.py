"""FTP replies and socket failures, mapped onto the common error vocabulary.

The reply code decides (RFC 959): 4xx is transient, 530/532 is a refused login,
550 is "file unavailable" — not found, unless the server's text says it is a
matter of permission. Socket errors, timeouts and a closed control connection
are transient: a new session may succeed.
"""

from __future__ import annotations

import ftplib
import re
import ssl

from storages_base.errors import (
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    TransientError,
)

__all__ = ["error_for_reply", "is_broken", "is_transient", "reply_code"]

BACKEND = "ftp"
#: Replies that mean the command or a feature is not implemented.
NOT_IMPLEMENTED = frozenset({500, 501, 502, 504})
_PERMISSION_WORDS = re.compile(r"permission|privilege|denied|not allowed|forbidden", re.I)


def reply_code(exc: BaseException) -> int | None:
    """Return the three-digit reply code of an ftplib error, if it has one."""
    if not isinstance(exc, ftplib.Error):
        return None
    match = re.match(r"\s*(\d{3})", str(exc))
    return int(match.group(1)) if match else None


def is_transient(exc: BaseException) -> bool:
    """Whether retrying on a new session may succeed."""
    if isinstance(exc, StorageError):
        return isinstance(exc, TransientError)
    if isinstance(exc, ftplib.error_temp):
        return True
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False  # the same certificate will fail again
    return isinstance(exc, (EOFError, OSError, ftplib.error_proto, ftplib.error_reply))


def is_broken(exc: BaseException) -> bool:
    """Whether the session that raised ``exc`` must be thrown away.

    A definite reply (a 5xx, or a 4xx other than 421 "closing") leaves the session in
    step with the server; anything else — a socket error, an unexpected reply, an
    interrupted transfer — may not, so it is closed rather than reused.
    """
    if isinstance(exc, StorageError):
        return isinstance(exc, TransientError)
    if isinstance(exc, ftplib.error_perm):
        return False
    if isinstance(exc, ftplib.error_temp):
        return reply_code(exc) == 421
    return True


def error_for_reply(
    exc: BaseException, *, name: str | None = None, operation: str | None = None
) -> StorageError:
    """Return the common error for an ftplib failure (chain it with ``raise ... from``)."""
    if isinstance(exc, StorageError):
        return exc
    code = reply_code(exc)
    message = str(exc).strip() or type(exc).__name__
    cls: type[StorageError]
    if isinstance(exc, ssl.SSLCertVerificationError):
        message += " (for ftps://, trust the server's CA with the ca_file option)"
        cls = StorageError
    elif code in (530, 532):
        cls = PermissionDeniedError
    elif code == 550:
        cls = PermissionDeniedError if _PERMISSION_WORDS.search(message) else NotFoundError
    elif code in (553, 552, 551):
        cls = PermissionDeniedError if _PERMISSION_WORDS.search(message) else StorageError
    elif is_transient(exc):
        cls = TransientError
    else:
        cls = StorageError
    return cls(message, name=name, operation=operation, backend=BACKEND)
