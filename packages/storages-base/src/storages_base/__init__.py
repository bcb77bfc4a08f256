"""Shared core of the storages backends.

Names, options, overwrite policy, gzip, file objects, errors and the conformance
suite (:mod:`storages_base.testing`) live here once; each provider package builds
on :class:`BaseStorage`.
"""

from .clients import client_property
from .errors import (
    AlreadyExistsError,
    FolderNotEmptyError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StorageError,
    TransientError,
)
from .files import Stat, StorageFile
from .options import AT_CONSTRUCTION, AT_FIRST_USE, Option, Options
from .storage import BASE_OPTIONS, GZIP_OPTIONS, BaseStorage, Capabilities, WriteRequest

__version__ = "0.1.0"

__all__ = [
    "AT_CONSTRUCTION",
    "AT_FIRST_USE",
    "BASE_OPTIONS",
    "GZIP_OPTIONS",
    "AlreadyExistsError",
    "BaseStorage",
    "Capabilities",
    "FolderNotEmptyError",
    "IntegrityError",
    "NotFoundError",
    "Option",
    "Options",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "Stat",
    "StorageError",
    "StorageFile",
    "TransientError",
    "WriteRequest",
    "client_property",
]
