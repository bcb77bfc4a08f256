"""Test support for storage backends: the conformance suite and its Django setup.

A backend's test module subclasses :class:`StorageContract` and gives it a
``storage_factory`` fixture that builds the backend against a real server::

    class TestS3(StorageContract):
        @pytest.fixture
        def storage_factory(self, s3_server):
            return lambda **options: S3Storage(endpoint_url=s3_server, **options)

Importing this package needs pytest; the backends themselves never import it.
"""

from .django import setup_django
from .servers import free_port, wait_port

__all__ = ["free_port", "setup_django", "wait_port"]
