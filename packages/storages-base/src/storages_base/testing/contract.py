"""``StorageContract``: the Django Storage contract, stated once for every backend.

A backend's test module subclasses it and supplies a ``storage_factory`` fixture that
returns ``callable(**options) -> storage`` built against a real server (the options
given override the backend's own test defaults)::

    class TestS3Storage(StorageContract):
        large_file_size = 11 * 1024 * 1024  # over two multipart parts

        @pytest.fixture
        def storage_factory(self, s3_server):
            def build(**options):
                return S3Storage(**{"endpoint_url": s3_server.url, **options})
            return build

Every case names its files under a fresh folder, so the suite never relies on an
empty server and may run against a shared one. Cases for optional capabilities
(``storage.capabilities``) skip with the reason. A backend that cannot honour a case
overrides the test method and calls ``pytest.skip("why")``, so the gap stays visible.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("storages_base.testing.cases")

from .cases.django_api import DjangoCases  # noqa: E402
from .cases.file_objects import FileObjectCases  # noqa: E402
from .cases.fixtures import ContractFixtures  # noqa: E402
from .cases.listing import ListingCases  # noqa: E402
from .cases.names import NameCases  # noqa: E402
from .cases.overwrite import OverwriteCases  # noqa: E402
from .cases.read_write import ReadWriteCases  # noqa: E402
from .cases.save_contract import SaveContractCases  # noqa: E402
from .cases.urls_content import UrlAndContentCases  # noqa: E402

__all__ = ["StorageContract"]


class StorageContract(
    ReadWriteCases,
    FileObjectCases,
    NameCases,
    ListingCases,
    OverwriteCases,
    SaveContractCases,
    DjangoCases,
    UrlAndContentCases,
    ContractFixtures,
):
    """The conformance suite; subclass it in a module named ``test_*.py``."""
