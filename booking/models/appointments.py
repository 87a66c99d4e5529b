"""Rooms, appointments and their history, and courses.

No two active appointments may overlap for one practitioner, one room or one patient:
PostgreSQL guarantees it with exclusion constraints, and a trigger (see the migration
`0002_travel_time_trigger`) keeps a practitioner's travel time between locations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from clinic.models import Location, Patient, Practitioner, Service, User, actor_field


class TsTzRange(Func):
    """`tstzrange(start, end)`, half-open: back-to-back appointments do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_name_unique_per_location"
            ),
            # What the composite foreign keys naming a room *and its location* refer to: an
            # appointment or a held time is in a room of its own location, and a room that
            # has either never moves to another location (migration 0021_room_at_its_location).
            models.UniqueConstraint(fields=["id", "location"], name="room_id_with_location"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# The only status changes there are. Anything else is refused by `booking.services`, but for
# the corrections of a no-show or a check-in set in error, on the visit's day
# (`booking.services.corrections`). PostgreSQL refuses any change outside both (booking
# migration 0020, `appointment_status_changes_as_allowed`): a change added here is added there.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REQUESTED: frozenset({Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}),
    Status.CHECKED_IN: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
# A status set in error, and the status its correction gives the visit back.
CORRECTIONS: dict[str, str] = {
    Status.NO_SHOW: Status.CHECKED_IN,  # the patient came after all
    Status.CHECKED_IN: Status.CONFIRMED,  # the wrong row, or they left before being seen
}

# Appointments that occupy their time (cancelled ones and no-shows free it).
ACTIVE_STATUSES = (Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED)
ACTIVE = Q(status__in=ACTIVE_STATUSES)


def _no_overlap_per(column: str, *, until: str) -> ExclusionConstraint:
    """No two active appointments with the same `column` whose times, from `starts_at` to
    `until`, overlap."""
    return ExclusionConstraint(
        name=f"appointment_no_overlap_per_{column}",
        expressions=[
            (TsTzRange("starts_at", until), RangeOperators.OVERLAPS),
            (column, RangeOperators.EQUAL),
        ],
        condition=ACTIVE,
    )


# Appointments whose time and people may still be changed.
MOVABLE_STATUSES = (Status.REQUESTED, Status.CONFIRMED)


# Check-in opens this long before the start: the day's list can be checked in from the
# morning (or the evening before an early visit), never days ahead.
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=12)


class CancelledBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINIC = "clinic", "Clinic"


def plan_number(field_name: str, *, assessment: str = "assessment_id") -> Func:
    """A number of the plan of the assessment `assessment` names, as it stands with its
    amendments applied (`booking_plan_number`, migration 0025, over the reading the course's own
    rule makes in 0017): NULL when it plans none."""
    return Func(
        F(assessment),
        Value(field_name),
        function="booking_plan_number",
        output_field=models.IntegerField(),
    )


def plan_says(field_name: str, *, assessment: str = "assessment_id") -> Func:
    """Whether a yes-or-no of that assessment, as it stands, is yes (`booking_plan_says`)."""
    return Func(
        F(assessment),
        Value(field_name),
        function="booking_plan_says",
        output_field=models.BooleanField(),
    )


@dataclass(frozen=True)
class PlanAsItStands:
    """A course's plan as its assessment says it now, amendments included."""

    needling: bool  # dry needling is still appropriate
    sessions: int | None  # None once it is not
    minutes: int | None
    interval_days: int | None

    def differs_from(self, course: Course) -> bool:
        """Whether the plan now is not the one `course` was booked from."""
        return not self.needling or (self.sessions, self.minutes, self.interval_days) != (
            course.sessions_planned,
            course.minutes,
            course.interval_days,
        )


class Course(models.Model):
    """A prescribed course of dry-needling sessions, booked all at once from a signed assessment.
    It stays as it was booked when its assessment's plan is amended (migration 0017): the
    sessions left are the practitioner's and the desk's call, and a plan that adds sessions is
    followed by `booking.services.extend_course_to_its_plan`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="courses",
        help_text="The practitioner who prescribed the course.",
    )
    assessment_id = models.BigIntegerField(
        help_text="The signed assessment note (intake) that prescribed the course."
    )
    sessions_planned = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField(default=7)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_planned__gte=4, sessions_planned__lte=6),
                name="course_has_4_to_6_sessions",
            ),
            models.CheckConstraint(
                condition=Q(minutes__in=[15, 20, 30]), name="course_session_length_15_20_or_30"
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1, interval_days__lte=28),
                name="course_interval_1_to_28_days",
            ),
            # One assessment's plan yields one course: another course needs a re-assessment.
            # (Courses are never cancelled as a whole; their sessions are.) Two bookings at the
            # same moment are also serialised by a row lock in `services.book_course`.
            models.UniqueConstraint(fields=["assessment_id"], name="course_one_per_assessment"),
            # What the composite foreign keys naming a course *and its patient* refer to (see
            # migration 0010_record_integrity_across_patients).
            models.UniqueConstraint(fields=["id", "patient"], name="course_id_with_patient"),
        ]

    def __str__(self) -> str:
        return f"Dry-needling course of {self.sessions_planned} for {self.patient}"

    def plan_as_it_stands(self) -> PlanAsItStands:
        """Its assessment's plan now, in one query."""
        row = (
            Course.objects.filter(pk=self.pk)
            .values_list(
                plan_says("needling_appropriate"),
                plan_number("planned_sessions"),
                plan_number("session_minutes"),
                plan_number("interval_days"),
            )
            .get()
        )
        return PlanAsItStands(*row)


class Appointment(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocks_until = models.DateTimeField(
        help_text="The end plus the location's buffer: the practitioner and room are busy until then."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # Cancellation details (also in the history), kept here for the lists that show them.
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    late_cancellation = models.BooleanField(default=False)
    proposed_by_clinic = models.BooleanField(
        default=False,
        db_default=False,  # so that rows written outside Django get it too
        help_text="The clinic proposed this time instead of the one the patient asked for; "
        "the request waits for the patient to accept it.",
    )
    patient_note = models.CharField(
        "note from the patient",
        max_length=500,
        blank=True,
        help_text="What the patient wrote when requesting the appointment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = actor_field()
    # Bumped by every change, so a form that was opened on an older state is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="appt_practitioner_start"),
            models.Index(fields=["location", "starts_at"], name="appt_location_start"),
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start"),
            models.Index(fields=["room", "starts_at"], name="appt_room_start"),
            models.Index(
                fields=["created_at"], condition=Q(status="requested"), name="appt_requests_queue"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_starts_before_it_ends"
            ),
            models.CheckConstraint(
                condition=Q(blocks_until__gte=F("ends_at")),
                name="appointment_blocks_at_least_until_its_end",
            ),
            # Bounded length lets a window's appointments be found from an index on the start.
            models.CheckConstraint(
                condition=Q(blocks_until__lte=F("starts_at") + dt.timedelta(hours=12)),
                name="appointment_blocks_under_12_hours",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="appointment_status_is_known"
            ),
            models.CheckConstraint(
                # session_number IS NOT NULL spelt out: a NULL comparison would pass a CHECK.
                condition=Q(course__isnull=True, session_number__isnull=True)
                | Q(
                    course__isnull=False,
                    session_number__isnull=False,
                    session_number__gte=1,
                    session_number__lte=6,
                ),
                name="appointment_course_sessions_numbered_1_to_6",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_by=""),
                name="appointment_cancellation_says_by_whom",
            ),
            # One active appointment per session number of a course: moving or cancelling a
            # session keeps the numbering of the others.
            models.UniqueConstraint(
                fields=["course", "session_number"],
                condition=ACTIVE,
                name="appointment_one_active_per_course_session",
            ),
            # What the composite foreign keys naming an appointment *and its patient* refer to
            # (notes, surveys, emails, holds: migration 0010_record_integrity_across_patients).
            models.UniqueConstraint(fields=["id", "patient"], name="appointment_id_with_patient"),
            # The practitioner and the room stay busy through the buffer after a session; the
            # patient only for the session itself.
            _no_overlap_per("practitioner", until="blocks_until"),
            _no_overlap_per("room", until="blocks_until"),
            _no_overlap_per("patient", until="ends_at"),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @staticmethod
    def times(location: Location, starts_at: dt.datetime, minutes: int) -> dict[str, dt.datetime]:
        """`starts_at`, `ends_at` and `blocks_until` of a visit of `minutes` at `location`: its
        practitioner and room stay busy for the location's buffer after it ends."""
        ends_at = starts_at + dt.timedelta(minutes=minutes)
        return {
            "starts_at": starts_at,
            "ends_at": ends_at,
            "blocks_until": ends_at + dt.timedelta(minutes=location.buffer_minutes),
        }

    # --- Reading the appointment ------------------------------------------------------------

    @property
    def local_starts_at(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)

    @property
    def local_ends_at(self) -> dt.datetime:
        return self.ends_at.astimezone(self.location.zone)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_movable(self) -> bool:
        return self.status in MOVABLE_STATUSES

    @property
    def session_label(self) -> str:
        """'DN 3/6' for a course session, '' otherwise."""
        if self.course_id and self.session_number:
            return f"DN {self.session_number}/{self.course.sessions_planned}"
        return ""

    @property
    def is_waiting_for_patient(self) -> bool:
        """A request the clinic answered with another time, not yet accepted by the patient."""
        return self.status == Status.REQUESTED and self.proposed_by_clinic

    def can_change_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    def check_in_opens_at(self) -> dt.datetime:
        """When the desk may first check the patient in: CHECK_IN_OPENS_BEFORE the start."""
        return self.starts_at - CHECK_IN_OPENS_BEFORE

    def check_in_is_open(self, at: dt.datetime) -> bool:
        return at >= self.check_in_opens_at()

    def cancellation_deadline(self) -> dt.datetime:
        return self.location.cancellation_deadline(self.starts_at)

    def is_late_cancellation(self, at: dt.datetime) -> bool:
        """Inside the location's notice period: changes online are closed (the patient phones)."""
        return at > self.cancellation_deadline()

    def cancelling_is_late(self, at: dt.datetime) -> bool:
        """Whether cancelling at `at` is a late cancellation (its flag, its fee, the patient's
        late-cancel history): inside the notice period, of an appointment the clinic had
        confirmed. A request never confirmed is withdrawn, not cancelled late: the patient had
        no appointment yet, and nobody kept its time for them."""
        return self.status != Status.REQUESTED and self.is_late_cancellation(at)

    def course_neighbours(self) -> tuple[Appointment | None, Appointment | None]:
        """The course's active sessions just before and just after this one in time (not by
        number: a missed session booked again keeps its number at a later date)."""
        if not self.course_id:
            return None, None
        others = (
            Appointment.objects.filter(course_id=self.course_id, status__in=ACTIVE_STATUSES)
            .exclude(pk=self.pk)
            .select_related("location")
        )
        before = others.filter(starts_at__lt=self.starts_at).order_by("-starts_at", "-pk")
        after = others.filter(starts_at__gte=self.starts_at).order_by("starts_at", "pk")
        return before.first(), after.first()

    def patients_move_window(
        self, neighbours: tuple[Appointment | None, Appointment | None] | None = None
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Where a patient may move a course session online: from the day after the previous
        session to the day before the next (this location's days), so that the sessions keep
        their order and two never fall on one day. The desk, knowing the plan, may do otherwise.
        `neighbours`: `course_neighbours()` when the caller has it already."""
        before, after = neighbours or self.course_neighbours()
        zone = self.location.zone

        def midnight(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(0), tzinfo=zone)

        def day(session: Appointment) -> dt.date:
            return session.starts_at.astimezone(zone).date()

        return (
            midnight(day(before) + dt.timedelta(days=1)) if before else None,
            midnight(day(after)) if after else None,
        )

    def patient_may_change_online(self, at: dt.datetime | None = None) -> bool:
        """Whether the patient may cancel or move it themselves (before the location's notice)."""
        at = at or timezone.now()
        return self.status in MOVABLE_STATUSES and not self.is_late_cancellation(at)

    def patient_may_cancel_online(self, at: dt.datetime | None = None) -> bool:
        """Whether the patient may cancel it themselves: before the notice, or, for a request
        the clinic has not confirmed, until its time (withdrawing one is never late:
        `cancelling_is_late`)."""
        at = at or timezone.now()
        if self.status == Status.REQUESTED and self.starts_at > at:
            return True
        return self.patient_may_change_online(at)


class AppointmentEvent(models.Model):
    """One line of an appointment's history: who did what, when and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        MOVED = "moved", "Moved"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = actor_field()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    late = models.BooleanField(null=True, help_text="For cancellations: inside the notice period?")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.to_status}"


# No appointment (with its buffer) lasts longer than this: see the check constraint above.
LONGEST_APPOINTMENT = dt.timedelta(hours=12)
