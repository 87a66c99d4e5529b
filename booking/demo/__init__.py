"""The demo clinic's bookings (`make run`, `seed_demo`): appointments across the week, a course
in progress, and a finished course with its outcomes. clinic.demo builds the organisation and
intake.demo the questionnaires; `booking.apps` adds these to `seed_demo`."""
