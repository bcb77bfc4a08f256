from django.contrib import admin

from .models import Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "image", "file", "direct", "created")
    list_filter = ("direct",)
    search_fields = ("title",)
