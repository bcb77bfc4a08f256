from django.conf import settings
from django.urls import path

from . import views

app_name = "gallery"

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("delete/<int:pk>/", views.delete, name="delete"),
    path("direct/sign/", views.direct_sign, name="direct-sign"),
    path("direct/complete/", views.direct_complete, name="direct-complete"),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", views.media, name="media"),
]
