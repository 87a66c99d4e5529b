from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking.intake_links import appointment_page_for_intake, course_for_intake
        from booking.pages import register_booking_pages
        from booking.selectors import (
            latest_request_location,
            upcoming_assessments,
            visits_for_intake,
        )
        from intake.clinical.selectors import register_courses, register_visits
        from intake.questionnaire.selectors import (
            register_appointment_pages,
            register_latest_request_location,
            register_upcoming_assessments,
        )

        register_booking_pages()
        # Intake lists questionnaires missing before an assessment; booking knows which.
        register_upcoming_assessments(upcoming_assessments)
        # Intake's surveys are about sessions and courses, which booking knows.
        register_visits(visits_for_intake)
        # The counter consent, opened from a refused check-in, returns to that appointment.
        register_appointment_pages(appointment_page_for_intake)
        # The signed note and the chart offer to book the course, or show it once booked.
        register_courses(course_for_intake)
        # The questionnaire proposes the location the patient last asked to be seen at.
        register_latest_request_location(latest_request_location)

    def seed_demo(self, story) -> None:
        from booking.demo.bookings import seed_bookings

        seed_bookings(story)
