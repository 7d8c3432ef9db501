from django.conf import settings
from django.urls import path

from . import views

urlpatterns = [
    settings.AUTH.urlpattern,
    path("", views.index),
    path("call_api", views.call_api),
]
