"""Root URLs, and the clinic app's own pages under the `clinic:` namespace."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from clinic import views
from clinic.routes import routes

clinic_patterns = [
    path("", views.welcome, name="welcome"),
    path("home/", views.home, name="home"),
    path("locations/", views.location_list, name="location_list"),
    path("locations/<slug:slug>/", views.location_detail, name="location_detail"),
    *routes(
        "accounts/signup/",
        ("", views.signup, "signup"),
        ("confirm/", views.signup_confirm, "signup_confirm"),
        ("confirm/<str:token>/", views.signup_confirm_link, "signup_confirm_link"),
    ),
    *routes(
        "me/",
        ("", views.patient_home, "patient_home"),
        ("details/", views.patient_details, "patient_details"),
    ),
    path("desk/", views.front_desk_home, name="front_desk_home"),
    path("practitioner/", views.practitioner_home, name="practitioner_home"),
    path("manager/", views.manager_home, name="manager_home"),
    *routes(
        "accounts/two-step/",
        ("setup/", views.two_factor_setup, "two_factor_setup"),
        ("verify/", views.two_factor_verify, "two_factor_verify"),
        ("", views.two_factor_manage, "two_factor_manage"),
    ),
    path("manager/access-log/", views.access_log_page, name="access_log"),
]

handler400 = "clinic.views.accounts.bad_request"

admin.site.site_header = f"{settings.CLINIC_NAME} administration"
admin.site.site_title = f"{settings.CLINIC_NAME} administration"
admin.site.index_title = "Locations, staff, services and records"

urlpatterns = [
    path("", include((clinic_patterns, "clinic"))),
    path("intake/", include("intake.urls")),
    path("", include("booking.urls")),
    path("manager/webhooks/", include("booking.webhooks.urls")),
    path("", include("booking.billing.urls")),
    path("", include("booking.billing.document_urls")),
    # Before Django's own: the same name and address, with the old password throttled.
    path("accounts/password_change/", views.PasswordChange.as_view(), name="password_change"),
    # Before Django's own: a new password set from the emailed link lifts the account's lock.
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # The admin's own password change would check the old password unthrottled.
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="password_change"),
        name="admin_password_change",
    ),
    path("admin/", admin.site.urls),
]
