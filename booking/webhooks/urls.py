"""The managers' webhook pages, under /manager/webhooks/ in the `webhooks:` namespace."""

from django.urls import path

from booking.webhooks import views
from clinic.routes import routes

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_new, name="endpoint_new"),
    *routes(
        "<int:pk>/",
        ("", views.endpoint_detail, "endpoint_detail"),
        ("edit/", views.endpoint_edit, "endpoint_edit"),
        ("rotate-secret/", views.endpoint_rotate, "endpoint_rotate"),
        ("disable/", views.endpoint_disable, "endpoint_disable"),
        ("enable/", views.endpoint_enable, "endpoint_enable"),
        ("deliveries/<int:delivery_pk>/redeliver/", views.delivery_redeliver, "redeliver"),
    ),
]
