"""Test support for storage backends: the conformance suite and its Django setup.

A backend's test module subclasses :class:`StorageContract` and gives it a
``storage_factory`` fixture that builds the backend against a real server::

    class TestS3(StorageContract):
        @pytest.fixture
        def storage_factory(self, s3_server):
            return lambda **options: S3Storage(**{"endpoint_url": s3_server, **options})

``StorageContract`` needs pytest; the backends themselves never import this package.
"""

from typing import TYPE_CHECKING, Any

from .django import collectstatic, setup_django
from .servers import free_port, wait_port

if TYPE_CHECKING:
    from .contract import StorageContract

__all__ = ["StorageContract", "collectstatic", "free_port", "setup_django", "wait_port"]


def __getattr__(name: str) -> Any:
    # Imported on demand: the suite needs pytest and Django set up, setup_django does not.
    if name == "StorageContract":
        from .contract import StorageContract

        return StorageContract
    raise AttributeError(name)
