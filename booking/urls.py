from django.urls import include, path

from booking.desk import move_views, phone_views, request_views, schedule_views, waitlist_views
from booking.notifications import views as notification_views
from booking.reports import record_views
from booking.reports import views as report_views
from booking.views import appointments, courses, requests, waitlist
from clinic.routes import routes

app_name = "booking"

urlpatterns = [
    # A patient's record on request, and closing an account.
    *routes(
        "records/",
        ("mine/", record_views.my_record, "my_record"),
        ("patients/<int:patient_pk>/", record_views.patient_record_for_request, "patient_record"),
    ),
    path("account/close/", record_views.close_account, name="close_account"),
    # A patient's online request.
    *routes(
        "book/",
        ("", requests.request_start, "request_start"),
        ("<slug:slug>/", requests.request_slots, "request_slots"),
        ("<slug:slug>/hold/", requests.request_hold, "request_hold"),
        ("held/<int:hold_pk>/", requests.request_appointment_page, "request_confirm"),
    ),
    # A patient's appointments.
    path("appointments/", appointments.my_appointments, name="my_appointments"),
    *routes(
        "appointments/<int:pk>/",
        ("", appointments.appointment_detail, "appointment_detail"),
        ("cancel/", appointments.cancel_appointment_page, "appointment_cancel"),
        ("move/", appointments.reschedule_appointment_page, "appointment_reschedule"),
        ("accept/", appointments.proposal_accept, "proposal_accept"),
    ),
    # The waitlist.
    *routes(
        "waitlist/",
        ("<slug:slug>/join/", waitlist.join_waitlist_page, "waitlist_join"),
        ("entries/<int:pk>/leave/", waitlist.leave_waitlist_page, "waitlist_leave"),
        ("offers/<int:pk>/accept/", waitlist.accept_offer_page, "offer_accept"),
        ("offers/<int:pk>/decline/", waitlist.decline_offer_page, "offer_decline"),
    ),
    # Courses.
    path("patients/<int:patient_pk>/course/", courses.book_course_page, name="course_book"),
    *routes(
        "courses/<int:pk>/",
        ("", courses.course_detail, "course_detail"),
        ("extend/", courses.course_extend, "course_extend"),
        (
            "sessions/<int:number>/book-again/",
            move_views.rebook_course_session_page,
            "course_session_rebook",
        ),
    ),
    # The front desk: schedules.
    path("schedule/", schedule_views.desk, name="schedule"),
    *routes(
        "schedule/locations/<slug:slug>/",
        ("", schedule_views.location_day, "location_day"),
        ("list/", schedule_views.location_day_list, "location_day_list"),
        ("week/", schedule_views.location_week, "location_week"),
    ),
    *routes(
        "schedule/practitioners/<int:pk>/",
        ("", schedule_views.practitioner_day, "practitioner_day"),
        ("week/", schedule_views.practitioner_week, "practitioner_week"),
    ),
    path("schedule/me/", schedule_views.my_schedule, name="my_schedule"),
    # The front desk: requests and actions on an appointment.
    path("schedule/requests/", request_views.requests_queue, name="requests_queue"),
    *routes(
        "schedule/appointments/<int:pk>/",
        ("confirm/", request_views.desk_confirm, "desk_confirm"),
        ("decline/", request_views.desk_decline, "desk_decline"),
        ("propose/", move_views.desk_propose, "desk_propose"),
        ("check-in/", request_views.desk_check_in, "desk_check_in"),
        ("check-in/undo/", request_views.desk_undo_check_in, "desk_undo_check_in"),
        ("complete/", request_views.desk_complete, "desk_complete"),
        ("no-show/", request_views.desk_no_show, "desk_no_show"),
        ("no-show/undo/", request_views.desk_undo_no_show, "desk_undo_no_show"),
        ("cancel/", request_views.desk_cancel, "desk_cancel"),
        ("move/", move_views.desk_move, "desk_move"),
        ("move/drop/", move_views.desk_move_drop, "desk_move_drop"),
    ),
    # The front desk: phone and walk-in bookings.
    *routes(
        "schedule/locations/<slug:slug>/patients/",
        ("", phone_views.find_patient, "find_patient"),
        ("new/", phone_views.new_patient, "new_patient"),
        ("<int:patient_pk>/book/", phone_views.book_for_patient, "book_for_patient"),
    ),
    # The front desk: the waitlist board.
    *routes(
        "schedule/locations/<slug:slug>/",
        ("waitlist/", waitlist_views.waitlist_board, "waitlist_board"),
        ("patients/<int:patient_pk>/waitlist/", waitlist_views.waitlist_add, "waitlist_add"),
    ),
    *routes(
        "schedule/waitlist/<int:pk>/",
        ("offer/", waitlist_views.waitlist_offer, "waitlist_offer"),
        ("remove/", waitlist_views.waitlist_remove, "waitlist_remove"),
    ),
    # Emails: manage-this-appointment links (no login; a signed token instead).
    *routes(
        "appointments/<int:pk>/link/<str:token>/",
        ("", notification_views.link_manage, "link_manage"),
        ("cancel/", notification_views.link_cancel, "link_cancel"),
        ("move/", notification_views.link_reschedule, "link_reschedule"),
        ("calendar.ics", notification_views.link_ics, "link_ics"),
        ("check-in/<slug:kind>/", notification_views.link_outcome_survey, "link_outcome_survey"),
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
        notification_views.practitioner_feed_page,
        name="practitioner_feed",
    ),
    *routes(
        "practitioner/calendar-feed/",
        ("", notification_views.calendar_feed, "calendar_feed"),
        ("new/", notification_views.calendar_feed_new, "calendar_feed_new"),
        ("turn-off/", notification_views.calendar_feed_revoke, "calendar_feed_revoke"),
    ),
    # The clinic's results (managers; practitioners see their own line) and their exports.
    *routes(
        "reports/",
        ("", report_views.dashboard, "reports"),
        ("results.csv", report_views.dashboard_csv, "reports_csv"),
        ("course-outcomes.csv", report_views.outcomes_csv, "outcomes_csv"),
    ),
    # A patient's reminders, and the emails staff follow up.
    path("me/reminders/", notification_views.reminder_settings, name="reminder_settings"),
    path("desk/email-problems/", notification_views.email_problems, name="email_problems"),
    path(
        "notifications/<int:pk>/send-again/",
        notification_views.notification_send_again,
        name="notification_send_again",
    ),
    # The open FHIR API (issue 20).
    path("fhir/", include(("booking.api.urls", "fhir"))),
]
