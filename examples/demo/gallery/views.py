"""The gallery: upload through Django, upload straight to storage, list, delete."""

from __future__ import annotations

import json
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .forms import UploadForm
from .models import Upload

TICKET_SALT = "gallery.direct-upload"
DIRECT_EXPIRE = 120  # seconds the browser has to start its upload


@dataclass
class Entry:
    """One stored file as the gallery shows it: everything read from the storage."""

    field: str
    name: str
    url: str = ""
    size: int | None = None
    modified: datetime | None = None
    error: str = ""

    @property
    def is_image(self) -> bool:
        return self.field == "image"


def describe(field: str, name: str) -> Entry:
    entry = Entry(field=field, name=name)
    try:
        entry.size = default_storage.size(name)
        entry.modified = default_storage.get_modified_time(name)
        entry.url = default_storage.url(name)
    except Exception as exc:  # the page shows what went wrong instead of failing whole
        entry.error = f"{type(exc).__name__}: {exc}"
    return entry


def direct_uploads_available() -> bool:
    return callable(getattr(default_storage, "presigned_upload", None))


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "gallery/index.html", _context(UploadForm()))


def _context(form: UploadForm) -> dict[str, Any]:
    uploads = [
        (upload, [describe(f.field.name, f.name) for f in upload.stored_files()])
        for upload in Upload.objects.all()
    ]
    return {
        "form": form,
        "uploads": uploads,
        "backend": settings.DEMO_BACKEND,
        "storage_class": type(default_storage._wrapped).__name__
        if hasattr(default_storage, "_wrapped")
        else type(default_storage).__name__,
        "direct": direct_uploads_available(),
        "direct_max_size": settings.DEMO_DIRECT_MAX_SIZE,
    }


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "gallery/index.html", _context(form), status=400)
    saved = form.save()
    messages.success(request, f"Stored {', '.join(str(f.name) for f in saved.stored_files())}.")
    return redirect("gallery:index")


@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Upload, pk=pk)
    names = [str(f.name) for f in item.stored_files()]
    for stored in item.stored_files():
        stored.delete(save=False)
    item.delete()
    messages.success(request, f"Deleted {', '.join(names)}.")
    return redirect("gallery:index")


@require_POST
def direct_sign(request: HttpRequest) -> JsonResponse:
    """Return a short-lived presigned POST for one file the browser is about to send."""
    if not direct_uploads_available():
        return JsonResponse({"error": "This storage has no presigned uploads."}, status=400)
    data = json.loads(request.body or b"{}")
    filename = default_storage.get_valid_name(str(data.get("filename") or "upload"))
    content_type = str(
        data.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )
    size = int(data.get("size") or 0)
    if size > settings.DEMO_DIRECT_MAX_SIZE:
        limit = settings.DEMO_DIRECT_MAX_SIZE
        return JsonResponse({"error": f"The file is larger than {limit} bytes."}, status=400)
    # A POST upload replaces whatever has its name, so every upload gets a fresh folder.
    name = f"direct/{uuid.uuid4().hex[:12]}/{filename}"
    presigned = default_storage.presigned_upload(
        name,
        max_size=settings.DEMO_DIRECT_MAX_SIZE,
        content_type=content_type,
        expire=DIRECT_EXPIRE,
    )
    ticket = signing.dumps({"name": presigned.name, "type": content_type}, salt=TICKET_SALT)
    return JsonResponse(
        {
            "url": presigned.url,
            # S3 signs a form POST; Azure a PUT of the file itself, with headers.
            "method": getattr(presigned, "method", "POST"),
            "headers": getattr(presigned, "headers", {}),
            "fields": presigned.fields,
            "ticket": ticket,
        }
    )


@require_POST
def direct_complete(request: HttpRequest) -> JsonResponse:
    """Record a file the browser says it uploaded, once the storage confirms it."""
    data = json.loads(request.body or b"{}")
    try:
        ticket = signing.loads(
            str(data.get("ticket")), salt=TICKET_SALT, max_age=DIRECT_EXPIRE + 3600
        )
    except signing.BadSignature:
        return JsonResponse({"error": "Unknown upload."}, status=400)
    name = ticket["name"]
    if not default_storage.exists(name):
        return JsonResponse({"error": f"{name} is not in the storage."}, status=400)
    if default_storage.size(name) > settings.DEMO_DIRECT_MAX_SIZE:
        default_storage.delete(name)  # servers that ignore the policy's size limit
        return JsonResponse({"error": "The file is too large."}, status=400)
    item = Upload(title=str(data.get("title") or ""), direct=True)
    field = item.image if ticket["type"].startswith("image/") else item.file
    field.name = name
    item.save()
    messages.success(request, f"Stored {name} straight from the browser.")
    return JsonResponse({"id": item.pk, "name": name})


@require_GET
def media(request: HttpRequest, name: str) -> FileResponse:
    """Serve a stored file through Django, for backends whose URLs are not HTTP (FTP, SFTP)."""
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404(name) from exc
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(stored, content_type=content_type)
