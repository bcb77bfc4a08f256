"""The README's settings table is the options table (``STORAGES_UPDATE_README=1`` rewrites it)."""

from __future__ import annotations

from pathlib import Path

from storages_base.testing.readme import check_settings_table
from storages_gcs.options import GCS_OPTIONS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_settings_table_is_generated_from_the_options() -> None:
    check_settings_table(README, GCS_OPTIONS, "GoogleCloudStorage")


def test_every_setting_of_django_storages_gcs_docs_is_an_option() -> None:
    documented = {
        "GS_BUCKET_NAME", "GS_PROJECT_ID", "GS_CREDENTIALS", "GS_DEFAULT_ACL",
        "GS_QUERYSTRING_AUTH", "GS_FILE_CHARSET", "GS_FILE_OVERWRITE", "GS_MAX_MEMORY_SIZE",
        "GS_BLOB_CHUNK_SIZE", "GS_OBJECT_PARAMETERS", "GS_CACHE_CONTROL", "GS_CUSTOM_ENDPOINT",
        "GS_LOCATION", "GS_EXPIRATION", "GS_IS_GZIPPED", "GZIP_CONTENT_TYPES",
        "GS_IAM_SIGN_BLOB", "GS_SA_EMAIL",
    }  # fmt: skip
    declared = {setting for item in GCS_OPTIONS for setting in item.settings}
    assert documented <= declared
