from django.apps import AppConfig


class StoragesTestingConfig(AppConfig):
    name = "storages_base.testing.app"
    label = "storages_testing"
    default_auto_field = "django.db.models.AutoField"
