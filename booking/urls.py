from django.urls import path

from booking.desk import move_views, phone_views, request_views, schedule_views, waitlist_views
from booking.notifications import views as notification_views
from booking.reports import record_views
from booking.reports import views as report_views
from booking.views import appointments, courses, requests, waitlist

app_name = "booking"

urlpatterns = [
    # A patient's record on request, and closing an account.
    path("records/mine/", record_views.my_record, name="my_record"),
    path(
        "records/patients/<int:patient_pk>/",
        record_views.patient_record_for_request,
        name="patient_record",
    ),
    path("account/close/", record_views.close_account, name="close_account"),
    # A patient's online request.
    path("book/", requests.request_start, name="request_start"),
    path("book/<slug:slug>/", requests.request_slots, name="request_slots"),
    path("book/<slug:slug>/hold/", requests.request_hold, name="request_hold"),
    path("book/held/<int:hold_pk>/", requests.request_appointment_page, name="request_confirm"),
    # A patient's appointments.
    path("appointments/", appointments.my_appointments, name="my_appointments"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<int:pk>/cancel/",
        appointments.cancel_appointment_page,
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:pk>/move/",
        appointments.reschedule_appointment_page,
        name="appointment_reschedule",
    ),
    path("appointments/<int:pk>/accept/", appointments.proposal_accept, name="proposal_accept"),
    # The waitlist.
    path("waitlist/<slug:slug>/join/", waitlist.join_waitlist_page, name="waitlist_join"),
    path("waitlist/entries/<int:pk>/leave/", waitlist.leave_waitlist_page, name="waitlist_leave"),
    path("waitlist/offers/<int:pk>/accept/", waitlist.accept_offer_page, name="offer_accept"),
    path("waitlist/offers/<int:pk>/decline/", waitlist.decline_offer_page, name="offer_decline"),
    # Courses.
    path("patients/<int:patient_pk>/course/", courses.book_course_page, name="course_book"),
    path("courses/<int:pk>/", courses.course_detail, name="course_detail"),
    path(
        "courses/<int:pk>/sessions/<int:number>/book-again/",
        move_views.rebook_course_session_page,
        name="course_session_rebook",
    ),
    # The front desk: schedules.
    path("schedule/", schedule_views.desk, name="schedule"),
    path("schedule/locations/<slug:slug>/", schedule_views.location_day, name="location_day"),
    path(
        "schedule/locations/<slug:slug>/list/",
        schedule_views.location_day_list,
        name="location_day_list",
    ),
    path(
        "schedule/locations/<slug:slug>/week/", schedule_views.location_week, name="location_week"
    ),
    path(
        "schedule/practitioners/<int:pk>/", schedule_views.practitioner_day, name="practitioner_day"
    ),
    path(
        "schedule/practitioners/<int:pk>/week/",
        schedule_views.practitioner_week,
        name="practitioner_week",
    ),
    path("schedule/me/", schedule_views.my_schedule, name="my_schedule"),
    # The front desk: requests and actions on an appointment.
    path("schedule/requests/", request_views.requests_queue, name="requests_queue"),
    path(
        "schedule/appointments/<int:pk>/confirm/", request_views.desk_confirm, name="desk_confirm"
    ),
    path(
        "schedule/appointments/<int:pk>/decline/", request_views.desk_decline, name="desk_decline"
    ),
    path("schedule/appointments/<int:pk>/propose/", move_views.desk_propose, name="desk_propose"),
    path(
        "schedule/appointments/<int:pk>/check-in/",
        request_views.desk_check_in,
        name="desk_check_in",
    ),
    path(
        "schedule/appointments/<int:pk>/complete/",
        request_views.desk_complete,
        name="desk_complete",
    ),
    path(
        "schedule/appointments/<int:pk>/no-show/", request_views.desk_no_show, name="desk_no_show"
    ),
    path("schedule/appointments/<int:pk>/cancel/", request_views.desk_cancel, name="desk_cancel"),
    path("schedule/appointments/<int:pk>/move/", move_views.desk_move, name="desk_move"),
    path(
        "schedule/appointments/<int:pk>/move/drop/",
        move_views.desk_move_drop,
        name="desk_move_drop",
    ),
    # The front desk: phone and walk-in bookings.
    path("schedule/locations/<slug:slug>/patients/", phone_views.find_patient, name="find_patient"),
    path(
        "schedule/locations/<slug:slug>/patients/new/", phone_views.new_patient, name="new_patient"
    ),
    path(
        "schedule/locations/<slug:slug>/patients/<int:patient_pk>/book/",
        phone_views.book_for_patient,
        name="book_for_patient",
    ),
    # The front desk: the waitlist board.
    path(
        "schedule/locations/<slug:slug>/waitlist/",
        waitlist_views.waitlist_board,
        name="waitlist_board",
    ),
    path(
        "schedule/locations/<slug:slug>/patients/<int:patient_pk>/waitlist/",
        waitlist_views.waitlist_add,
        name="waitlist_add",
    ),
    path("schedule/waitlist/<int:pk>/offer/", waitlist_views.waitlist_offer, name="waitlist_offer"),
    path(
        "schedule/waitlist/<int:pk>/remove/", waitlist_views.waitlist_remove, name="waitlist_remove"
    ),
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
        notification_views.link_outcome_survey,
        name="link_outcome_survey",
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
