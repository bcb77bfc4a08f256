"""One upload: a file, an image, or both, stored on the default storage."""

from __future__ import annotations

from django.db import models


class Upload(models.Model):
    title = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to="files/%Y/%m/", blank=True, max_length=300)
    image = models.ImageField(upload_to="images/%Y/%m/", blank=True, max_length=300)
    direct = models.BooleanField(
        default=False, help_text="Uploaded by the browser straight to the storage server."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.title or self.image.name or self.file.name or f"Upload {self.pk}"

    def stored_files(self) -> list[models.fields.files.FieldFile]:
        """The files this upload holds (the image first)."""
        return [field for field in (self.image, self.file) if field]
