"""The results dashboard's rows, kept up to date by PostgreSQL as the records change: one row a
course (`CourseReportRow`), a visit (`VisitReportRow`) and a signed session note
(`SessionReportRow`), each already in its location's local date and month.

Why they exist: the dashboard used to recompute every figure from the raw records on each view
(a year of 20,000 courses: about 430 ms). Two things cost most: turning every row's instant
into its location's local date, and counting *distinct* patients behind each figure (a sort per
line and figure). Both are now done once, when a record changes:

- each row carries its local date and month;
- each row carries, for each way of counting a patient, the local date of the same patient's
  previous row counted the same way (`previous_*`). Among a patient's rows in a period, only
  the first has no previous row inside the period, so "distinct patients" becomes "rows whose
  previous row is before the period (or none)" — a plain filtered count, no sort. A way of
  counting is a figure (any course, an ended one, one with both pain scores, one answered) and
  what the line shares (the patient only; the same location; the same practitioner; both).

Who writes them: only the triggers of migration 0011_report_rows, which call
`booking_refresh_report_rows(patients)` after any statement that changes an appointment, a
course, an outcome survey, a session note or its amendment (and a location's time zone), and
rebuild every row of the patients it touched. The application never writes here.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Case, DateField, F, Func, Q, When
from django.db.models.functions import Mod

from booking.models.appointments import ACTIVE_STATUSES, Status
from intake.clinical.models import AdverseEvent

# What a line shares beside the patient, as the suffix of a `previous_*` column: nothing (the
# total), the location, the practitioner, or both (a location line within a practitioner's
# scope, and so on).
SHARED = {
    frozenset(): "",
    frozenset({"location"}): "_at_location",
    frozenset({"practitioner"}): "_with_practitioner",
    frozenset({"location", "practitioner"}): "_at_location_with_practitioner",
}

# The ways each kind of row counts patients: the figure whose patients are counted.
COURSE_COUNTS = ("course", "ended", "pain", "answered")
VISIT_COUNTS = ("visit", "due")
SESSION_COUNTS = ("session",)


def previous_column(count: str, shared: frozenset[str]) -> str:
    """The column holding the local date of the patient's previous row counted as `count`,
    sharing `shared` with this one."""
    return f"previous_{count}{SHARED[shared]}"


def _kept(expression, output_field) -> models.GeneratedField:
    """A column PostgreSQL computes from the row's others when it is written (so the triggers
    that write the rows need not know it): the dashboard reads a flag instead of testing a
    status or searching an array on every row it sums."""
    return models.GeneratedField(expression=expression, output_field=output_field, db_persist=True)


def _month_start() -> models.GeneratedField:
    """The first day of the row's `month` (year * 100 + month): a month's patients are counted
    from it on the charts' lines."""
    first_day = Func(
        F("month") / 100, Mod("month", 100), 1, function="make_date", output_field=DateField()
    )
    return _kept(first_day, DateField())


class _WhereAndWhen(models.Model):
    """What a report row and a tally entry share: where, with whom and which day."""

    location_id = models.BigIntegerField(null=True)
    practitioner_id = models.BigIntegerField()
    # The local date at the row's location (UTC where it has none) and its month as
    # year * 100 + month (e.g. 202703), the key of the dashboard's charts.
    local_date = models.DateField(db_index=True)
    month = models.IntegerField()

    class Meta:
        abstract = True


class _ReportRow(_WhereAndWhen):
    patient_id = models.BigIntegerField(db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk} ({self.local_date})"


class CourseReportRow(_ReportRow):
    """A course, dated by its first session."""

    course_id = models.BigIntegerField(primary_key=True)
    # Courses are summed by month from their rows (visits and sessions, from their tallies).
    month_start = _month_start()
    sessions_planned = models.SmallIntegerField()
    completed = models.BooleanField()
    abandoned = models.BooleanField()
    baseline = models.SmallIntegerField(null=True, help_text="Pain on first steps, at intake.")
    at_end = models.SmallIntegerField(null=True, help_text="The same, at the end of the course.")
    answered = models.BooleanField(help_text="The end-of-course questionnaire was answered.")
    improved_pain_mobility = models.BooleanField(null=True)
    improved_strength = models.BooleanField(null=True)
    improved_walking = models.BooleanField(null=True)
    recommend = models.SmallIntegerField(null=True)


class VisitReportRow(_ReportRow):
    """An appointment, dated by its start."""

    appointment_id = models.BigIntegerField(primary_key=True)
    status = models.CharField(max_length=20)
    late_cancellation = models.BooleanField()
    minutes = models.IntegerField()
    # Attended or missed: what a no-show rate is out of.
    due = _kept(Q(status__in=[Status.COMPLETED, Status.NO_SHOW]), models.BooleanField())
    no_show = _kept(Q(status=Status.NO_SHOW), models.BooleanField())
    late_cancelled = _kept(
        Q(status=Status.CANCELLED, late_cancellation=True), models.BooleanField()
    )
    # Booked time: the active statuses' (a no-show's time was not used, a cancelled one's
    # was given back).
    active_minutes = _kept(
        Case(When(Q(status__in=ACTIVE_STATUSES), then=F("minutes")), default=0),
        models.IntegerField(),
    )


class SessionReportRow(_ReportRow):
    """A signed session note, dated when the session was performed, with its adverse events
    as they stand after any amendment (and one `had_<event>` flag a type)."""

    note_id = models.BigIntegerField(primary_key=True)
    adverse_events = ArrayField(models.CharField(max_length=20), default=list)


def adverse_flag(event: str) -> str:
    """The column of SessionReportRow saying the session had adverse event `event`."""
    return f"had_{event}"


for _event in AdverseEvent:
    if _event != AdverseEvent.NONE:
        SessionReportRow.add_to_class(
            adverse_flag(_event.value),
            _kept(Q(adverse_events__contains=[_event.value]), models.BooleanField()),
        )

for _model, _counts in (
    (CourseReportRow, COURSE_COUNTS),
    (VisitReportRow, VISIT_COUNTS),
    (SessionReportRow, SESSION_COUNTS),
):
    for _count in _counts:
        for _shared in SHARED:
            _model.add_to_class(previous_column(_count, _shared), models.DateField(null=True))


# --- Tallies: the visit and session rows counted by what the dashboard reads -----------------
# A year of visits is about a hundred thousand rows, but far fewer distinct combinations of
# what the dashboard reads from them (a practitioner's Monday patients were mostly all last
# seen the Monday before): summing the combinations with their number costs a third of
# summing the rows. The tallies are written by triggers on the rows (migration 0014): each
# statement that adds or removes rows appends their combinations counted +1 or -1 each, so
# writers never wait for one another; `booking.reports.tallies.fold` (the worker, every pass)
# adds up each day's entries into one per combination. Read unfolded, the sums are the same.


class _Tally(_WhereAndWhen):
    id = models.BigAutoField(primary_key=True)
    month_start = _month_start()
    # How many rows have this combination (negative in an entry for rows removed).
    rows_counted = models.IntegerField()
    # Written by the fold: one entry of the day's combination (the triggers write False).
    folded = models.BooleanField(default=False)
    # Columns the entries add up beside the count (not part of the combination).
    summed: tuple[str, ...] = ()

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["local_date"], name="%(class)s_to_fold", condition=Q(folded=False))
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk} ({self.local_date}: {self.rows_counted:+})"


class VisitReportTally(_Tally):
    """Visit rows counted by location, practitioner, date, flags and previous dates."""

    due = models.BooleanField()
    no_show = models.BooleanField()
    late_cancelled = models.BooleanField()
    active_minutes = models.IntegerField(help_text="The rows' booked minutes, added up.")
    summed = ("active_minutes",)


class SessionReportTally(_Tally):
    """Session rows counted by location, practitioner, date, adverse events and previous
    dates."""


for _event in AdverseEvent:
    if _event != AdverseEvent.NONE:
        SessionReportTally.add_to_class(adverse_flag(_event.value), models.BooleanField())

for _model, _counts in ((VisitReportTally, VISIT_COUNTS), (SessionReportTally, SESSION_COUNTS)):
    for _count in _counts:
        for _shared in SHARED:
            _model.add_to_class(previous_column(_count, _shared), models.DateField(null=True))

# The tallies the worker folds.
TALLIES = (VisitReportTally, SessionReportTally)


def tally_columns(tally: type[_Tally]) -> list[str]:
    """The columns a tally's entries are combinations of (what it copies from the rows)."""
    counted = {"id", "rows_counted", "folded", *tally.summed}
    return [
        field.column
        for field in tally._meta.concrete_fields
        if field.column not in counted and not isinstance(field, models.GeneratedField)
    ]
