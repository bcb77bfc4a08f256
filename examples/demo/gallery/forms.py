from __future__ import annotations

from typing import Any

from django import forms

from .models import Upload


class UploadForm(forms.ModelForm):  # type: ignore[type-arg]
    """The classic upload: the file passes through Django on its way to the storage."""

    class Meta:
        model = Upload
        fields = ["title", "image", "file"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("image") and not data.get("file"):
            raise forms.ValidationError("Choose an image or a file to upload.")
        return data
