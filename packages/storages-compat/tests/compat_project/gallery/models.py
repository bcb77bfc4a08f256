"""Models as a django-storages project writes them: storages named by their classic paths."""

from django.db import models

from storages.backends.ftp import FTPStorage
from storages.backends.s3 import S3Storage
from storages.backends.s3boto3 import S3Boto3Storage
from storages.backends.sftpstorage import SFTPStorage


class MediaStorage(S3Boto3Storage):
    """The subclass django-storages' docs teach: options as class attributes."""

    location = "uploads"
    file_overwrite = False


class Photo(models.Model):
    title = models.CharField(max_length=100)
    image = models.FileField(
        upload_to="photos",
        storage=S3Boto3Storage(bucket_name="compat-photos", location="originals"),
    )
    thumbnail = models.FileField(upload_to="thumbs", storage=MediaStorage(), blank=True)
    public = models.FileField(
        upload_to="public", storage=S3Storage(querystring_auth=False), blank=True
    )
    archive = models.FileField(upload_to="archive", storage=FTPStorage(), blank=True)
    report = models.FileField(upload_to="reports", storage=SFTPStorage(), blank=True)
    attachment = models.FileField(upload_to="attachments", blank=True)
