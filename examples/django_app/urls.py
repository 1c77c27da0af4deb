from __future__ import annotations

from django.urls import path

from django_app import views

urlpatterns = [
    path("image", views.image),
    path("chat", views.chat),
    path("chat/stream", views.chat_stream),
    path("health", views.health),
]
