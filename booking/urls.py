from django.urls import path

from booking import views

app_name = "booking"

urlpatterns = [
    # A patient's online request.
    path("book/", views.request_start, name="request_start"),
    path("book/<slug:slug>/", views.request_slots, name="request_slots"),
    path("book/<slug:slug>/hold/", views.request_hold, name="request_hold"),
    path("book/held/<int:hold_pk>/", views.request_confirm, name="request_confirm"),
    # A patient's appointments.
    path("appointments/", views.my_appointments, name="my_appointments"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path(
        "appointments/<int:pk>/move/", views.appointment_reschedule, name="appointment_reschedule"
    ),
    # The waitlist.
    path("waitlist/<slug:slug>/join/", views.waitlist_join, name="waitlist_join"),
    path("waitlist/entries/<int:pk>/leave/", views.waitlist_leave, name="waitlist_leave"),
    path("waitlist/offers/<int:pk>/accept/", views.offer_accept, name="offer_accept"),
    path("waitlist/offers/<int:pk>/decline/", views.offer_decline, name="offer_decline"),
    # Courses.
    path("patients/<int:patient_pk>/course/", views.course_book, name="course_book"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
]
