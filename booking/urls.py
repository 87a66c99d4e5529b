from django.urls import path

from booking import notification_views, report_views, views

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
    # Emails: manage-this-appointment links (no login; a signed token instead).
    path(
        "appointments/<int:pk>/link/<str:token>/",
        notification_views.link_manage,
        name="link_manage",
    ),
    path(
        "appointments/<int:pk>/link/<str:token>/cancel/",
        notification_views.link_cancel,
        name="link_cancel",
    ),
    path(
        "appointments/<int:pk>/link/<str:token>/move/",
        notification_views.link_reschedule,
        name="link_reschedule",
    ),
    path(
        "appointments/<int:pk>/link/<str:token>/calendar.ics",
        notification_views.link_ics,
        name="link_ics",
    ),
    path(
        "appointments/<int:pk>/link/<str:token>/check-in/<slug:kind>/",
        notification_views.link_checkin,
        name="link_checkin",
    ),
    # Calendar files and feeds.
    path(
        "appointments/<int:pk>/calendar.ics",
        notification_views.appointment_ics,
        name="appointment_ics",
    ),
    path("courses/<int:pk>/calendar.ics", notification_views.course_ics, name="course_ics"),
    path(
        "calendar/<str:token>/schedule.ics",
        notification_views.practitioner_feed,
        name="practitioner_feed",
    ),
    path("practitioner/calendar-feed/", notification_views.calendar_feed, name="calendar_feed"),
    path(
        "practitioner/calendar-feed/new/",
        notification_views.calendar_feed_new,
        name="calendar_feed_new",
    ),
    path(
        "practitioner/calendar-feed/turn-off/",
        notification_views.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
    # The clinic's results (managers; practitioners see their own line) and their exports.
    path("reports/", report_views.dashboard, name="reports"),
    path("reports/results.csv", report_views.dashboard_csv, name="reports_csv"),
    path("reports/course-outcomes.csv", report_views.outcomes_csv, name="outcomes_csv"),
    # A patient's reminders, and the emails staff follow up.
    path("me/reminders/", notification_views.reminder_settings, name="reminder_settings"),
    path("desk/email-problems/", notification_views.email_problems, name="email_problems"),
    path(
        "notifications/<int:pk>/send-again/",
        notification_views.notification_send_again,
        name="notification_send_again",
    ),
]
