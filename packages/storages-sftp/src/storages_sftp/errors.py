"""paramiko's errors, mapped onto the common error vocabulary.

SFTP status codes decide first: paramiko turns ``SSH_FX_NO_SUCH_FILE`` into an
``OSError`` with ``errno.ENOENT`` and ``SSH_FX_PERMISSION_DENIED`` into ``EACCES``.
A dropped or refused connection, a timeout and an SSH protocol error are transient
(a new connection may succeed); a refused login or host key is not.
"""

from __future__ import annotations

import errno
import socket
from contextlib import AbstractContextManager

import paramiko
from paramiko.ssh_exception import NoValidConnectionsError

from storages_base.errors import (
    AlreadyExistsError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    TransientError,
    translating,
)

__all__ = ["HostKeyError", "error_for", "is_transient", "translate"]

BACKEND = "sftp"


class HostKeyError(PermissionDeniedError):
    """The server's host key is unknown (or changed): the storage refused to connect."""


_BY_ERRNO: dict[int, type[StorageError]] = {
    errno.ENOENT: NotFoundError,
    errno.EACCES: PermissionDeniedError,
    errno.EPERM: PermissionDeniedError,
    errno.EEXIST: AlreadyExistsError,
}


def is_transient(exc: BaseException) -> bool:
    """Whether retrying on a new connection may succeed."""
    if isinstance(exc, StorageError):
        return isinstance(exc, TransientError)
    if isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException)):
        return False
    if isinstance(
        exc,
        (EOFError, socket.timeout, ConnectionError, NoValidConnectionsError, paramiko.SSHException),
    ):
        return True
    if isinstance(exc, OSError):
        # An SFTP status arrives as an OSError too: ENOENT/EACCES carry an errno, other
        # statuses ("Failure") none. Socket errors always carry one.
        return exc.errno is not None and exc.errno not in _BY_ERRNO
    return False


def error_for(exc: BaseException, name: str | None, operation: str) -> StorageError:
    """Return the common error for a paramiko or socket exception (not yet chained)."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, paramiko.AuthenticationException):
        cls: type[StorageError] = PermissionDeniedError
        message = f"SSH authentication failed: {exc}"
    elif is_transient(exc):
        cls, message = TransientError, f"SFTP connection failed: {exc or type(exc).__name__}"
    elif isinstance(exc, OSError) and exc.errno in _BY_ERRNO:
        cls, message = _BY_ERRNO[exc.errno], exc.strerror or str(exc)
    else:
        cls, message = StorageError, str(exc) or type(exc).__name__
    return cls(message, name=name, operation=operation, backend=BACKEND)


def translate(name: str | None, operation: str) -> AbstractContextManager[None]:
    """Raise the common error for any paramiko or socket error in the block, chained."""
    return translating(
        (OSError, EOFError, paramiko.SSHException), lambda exc: error_for(exc, name, operation)
    )
