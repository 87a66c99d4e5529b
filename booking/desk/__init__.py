"""The front desk: the schedule pages and their grid and badges, the requests queue and the
actions on an appointment, choosing and moving times, patients who phone or walk in, patient
search and the waitlist board."""
