"""The model of the seed's FieldFile walk-through; its storage is set per test."""

from django.core.files.storage import default_storage
from django.db import models


class Document(models.Model):
    name = models.CharField(max_length=100, default="")
    file = models.FileField(upload_to="documents", storage=default_storage, max_length=255)

    class Meta:
        app_label = "storages_testing"
