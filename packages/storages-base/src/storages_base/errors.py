"""One error vocabulary, by cause, shared by every backend.

Each class also subclasses the builtin a caller would already catch (``except
FileNotFoundError`` keeps working), and carries the name, the operation and the
backend it came from. Providers map their SDK's errors onto these in their own
``errors.py``, by HTTP status or protocol code first (see :func:`error_for_status`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

__all__ = [
    "AlreadyExistsError",
    "FolderNotEmptyError",
    "IntegrityError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "StorageError",
    "TransientError",
    "error_for_status",
    "reraise_as",
    "translating",
]


class StorageError(Exception):
    """A storage operation failed; ``name``, ``operation`` and ``backend`` say where."""

    def __init__(
        self,
        message: str = "",
        *,
        name: str | None = None,
        operation: str | None = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.operation = operation
        self.backend = backend

    def __str__(self) -> str:
        where = ", ".join(
            f"{label}={value!r}"
            for label, value in (
                ("backend", self.backend),
                ("operation", self.operation),
                ("name", self.name),
            )
            if value is not None
        )
        return f"{self.message} ({where})" if where else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # OSError subclasses otherwise pickle through their ``args`` only and lose
        # the keyword-only context; errors must cross process pools intact.
        return (
            _rebuild,
            (type(self), self.message, self.name, self.operation, self.backend),
        )


def _rebuild(
    cls: type[StorageError],
    message: str,
    name: str | None,
    operation: str | None,
    backend: str | None,
) -> StorageError:
    return cls(message, name=name, operation=operation, backend=backend)


class NotFoundError(StorageError, FileNotFoundError):
    """The file does not exist."""


class PermissionDeniedError(StorageError, PermissionError):
    """The credentials are not allowed to do this (HTTP 401/403)."""


class AlreadyExistsError(StorageError, FileExistsError):
    """A create-only write found the name taken (no-overwrite saves retry on it)."""


class FolderNotEmptyError(StorageError, OSError):
    """``delete()`` of a folder that still holds files, on a file server: refused, as
    FileSystemStorage's ``os.rmdir`` refuses it (never a recursive delete)."""


class PreconditionFailedError(StorageError):
    """A conditional request's condition did not hold (HTTP 412)."""


class IntegrityError(StorageError, ValueError):
    """The bytes stored or read do not match their checksum; nothing was kept."""


class TransientError(StorageError, ConnectionError):
    """A network fault, a throttle or a server error: retrying may help."""


_BY_STATUS: dict[int, type[StorageError]] = {
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: TransientError,
    412: PreconditionFailedError,
    429: TransientError,
}


def error_for_status(
    status: int | None,
    *,
    code: str | None = None,
    codes: Mapping[str, type[StorageError]] | None = None,
    exclusive: bool = False,
) -> type[StorageError]:
    """Return the error class for an HTTP ``status`` and the provider's error ``code``.

    ``codes`` is what the provider's codes say that the status does not (S3's
    ``NoSuchBucket`` is a 404 that is not a missing file); it wins over the status.
    A create-only (``exclusive``) write refused with 409 or 412, or with a code that
    means a failed precondition, found the name taken. Without ``exclusive``, 409 is a
    conflict of another kind (a lease, a concurrent change): only a code can say more.
    5xx is transient; anything unknown is the generic :class:`StorageError`.
    """
    cls = codes.get(code) if codes and code else None
    if cls is None:
        if status is None:
            cls = StorageError
        elif status >= 500:
            cls = TransientError
        else:
            cls = _BY_STATUS.get(status, StorageError)
    if exclusive and (status in (409, 412) or cls is PreconditionFailedError):
        return AlreadyExistsError
    return cls


@contextmanager
def translating(
    catch: type[BaseException] | tuple[type[BaseException], ...],
    translate: Callable[[BaseException], StorageError],
) -> Iterator[None]:
    """Raise ``translate(exc)`` for the ``catch`` exceptions of the block, chained.

    Storage errors pass through untouched: they were translated where they were raised.
    """
    try:
        yield
    except StorageError:
        raise
    except catch as exc:
        raise translate(exc) from exc


def reraise_as(
    cls: type[StorageError],
    catch: type[BaseException] | tuple[type[BaseException], ...],
    *,
    name: str | None = None,
    operation: str | None = None,
    backend: str | None = None,
) -> AbstractContextManager[None]:
    """Turn the ``catch`` exceptions raised inside the block into ``cls``, chained."""
    return translating(
        catch, lambda exc: cls(str(exc), name=name, operation=operation, backend=backend)
    )
