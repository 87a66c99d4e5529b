from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking.pages import register_booking_pages

        register_booking_pages()

    def seed_demo(self, story) -> None:
        from booking.demo import seed_bookings

        seed_bookings(story)
