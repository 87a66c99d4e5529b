"""Loading what the availability functions need, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Func, Q, Value
from django.utils import timezone

from booking.availability import (
    Busy,
    Interval,
    LocationRules,
    PractitionerCalendar,
    Rooms,
    Slot,
    SlotQuery,
    free_slots,
)
from booking.models import ACTIVE, LONGEST_APPOINTMENT, Appointment, Room, SlotHold
from clinic.models import (
    DEFAULT_TRAVEL_MINUTES,
    Certification,
    Holiday,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    ScheduleException,
    Service,
    TravelTime,
    WorkingHours,
)


class Epoch(Func):
    """A timestamp as whole seconds since the epoch, computed by PostgreSQL."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
    output_field = BigIntegerField()


# The widest travel time we may need to look around the window for.
MAX_TRAVEL = dt.timedelta(hours=8)


@dataclass
class Availability:
    """Everything known about one location's schedule for a window, ready for the pure functions."""

    location: Location
    rules: LocationRules
    calendars: dict[int, PractitionerCalendar]
    rooms: Rooms
    patient_busy: Busy | None
    practitioners: dict[int, Practitioner]
    room_list: list[Room] = field(default_factory=list)  # active rooms, in the order given out

    def slots(self, query: SlotQuery, practitioner_ids: list[int] | None = None) -> list[Slot]:
        calendars = [
            c
            for pid, c in self.calendars.items()
            if practitioner_ids is None or pid in practitioner_ids
        ]
        return free_slots(query, self.rules, calendars, self.rooms, self.patient_busy)


def location_rules(
    location: Location, opening: list[OpeningHours], holidays: list[Holiday]
) -> LocationRules:
    return LocationRules(
        location_id=location.pk,
        zone=location.zone,
        opening={o.weekday: (o.opens_at, o.closes_at) for o in opening},
        holidays=frozenset(h.date for h in holidays),
        buffer=dt.timedelta(minutes=location.buffer_minutes),
        min_notice=dt.timedelta(minutes=location.min_notice_minutes),
        horizon=dt.timedelta(days=location.booking_horizon_days),
    )


def load_availability(
    *,
    location: Location,
    window_start: dt.datetime,
    window_end: dt.datetime,
    service: Service | None = None,
    practitioner_ids: list[int] | None = None,
    patient: Patient | None = None,
    ignore_appointment_ids: tuple[int, ...] = (),
    now: dt.datetime | None = None,
) -> Availability:
    """Load the location's rules, its practitioners' hours, exceptions, certifications, the
    appointments and live holds that make them or the rooms busy, and the patient's own
    appointments, for the window — in nine queries whatever the window or the data size.

    `ignore_appointment_ids` leaves out appointments being moved, so that a session can move
    to a time overlapping its old one. The patient's own live holds do not block them."""
    now = now or timezone.now()
    # Local dates can start up to a day before the UTC window; appointments at other
    # locations matter up to the longest travel time around it.
    load_start = window_start - dt.timedelta(days=1) - MAX_TRAVEL
    load_end = window_end + dt.timedelta(days=1) + MAX_TRAVEL

    opening = list(OpeningHours.objects.filter(location=location))  # 1
    holidays = list(  # 2
        Holiday.objects.filter(
            location=location, date__gte=load_start.date(), date__lte=load_end.date()
        )
    )
    practitioners_qs = Practitioner.objects.at(location).select_related("user")  # 3
    if practitioner_ids is not None:
        practitioners_qs = practitioners_qs.filter(pk__in=practitioner_ids)
    practitioners = {p.pk: p for p in practitioners_qs}
    ids = list(practitioners)

    certified: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for pid, start, end in Certification.objects.filter(practitioner_id__in=ids).values_list(  # 4
        "practitioner_id", "valid_from", "valid_until"
    ):
        certified[pid].append((start, end))

    weekly: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for pid, weekday, start, end in WorkingHours.objects.filter(  # 5
        location=location, practitioner_id__in=ids
    ).values_list("practitioner_id", "weekday", "starts_at", "ends_at"):
        weekly[pid][weekday].append((start, end))

    extra: dict[int, list[Interval]] = defaultdict(list)
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for pid, kind, loc_id, start, end in ScheduleException.objects.filter(  # 6
        practitioner_id__in=ids, starts_at__lt=load_end, ends_at__gt=load_start
    ).values_list("practitioner_id", "kind", "location_id", "starts_at", "ends_at"):
        if kind == ScheduleException.Kind.TIME_OFF:
            time_off[pid].append(Interval(start, end))
        elif loc_id == location.pk:
            extra[pid].append(Interval(start, end))

    rooms = list(Room.objects.filter(location=location, is_active=True).order_by("name", "pk"))  # 7
    room_ids = [r.pk for r in rooms]

    travel = {  # 8
        frozenset((a, b)): minutes
        for a, b, minutes in TravelTime.objects.filter(
            Q(from_location=location) | Q(to_location=location)
        ).values_list("from_location_id", "to_location_id", "minutes")
    }

    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    room_busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    patient_busy: list[tuple[int, int]] = []
    who = Q(practitioner_id__in=ids) | Q(room_id__in=room_ids)
    if patient is not None:
        who |= Q(patient=patient)
    # Times as whole seconds since the epoch: thousands of rows, no datetime objects needed.
    columns = ("practitioner_id", "room_id", "patient_id", "location_id", "start", "end", "blocks")
    times = {"start": Epoch("starts_at"), "end": Epoch("ends_at"), "blocks": Epoch("blocks_until")}
    appointments = (
        Appointment.objects.filter(
            ACTIVE,
            who,
            starts_at__lt=load_end,
            blocks_until__gt=load_start,
            starts_at__gt=load_start - LONGEST_APPOINTMENT,  # so the (…, starts_at) indexes apply
        )
        .exclude(pk__in=ignore_appointment_ids)
        .order_by()
        .annotate(**times, is_hold=Value(False))
        .values_list(*columns, "is_hold")
    )
    holds = (
        SlotHold.objects.filter(
            Q(practitioner_id__in=ids) | Q(room_id__in=room_ids),
            appointment__isnull=True,
            expires_at__gt=now,
            starts_at__lt=load_end,
            blocks_until__gt=load_start,
        )
        .order_by()
        .annotate(**times, is_hold=Value(True))
        .values_list(*columns, "is_hold")
    )
    # Built by the ORM, fetched through the cursor: thousands of plain integer rows need none
    # of the ORM's per-row converters.
    try:
        sql, params = appointments.union(holds, all=True).query.sql_with_params()
    except EmptyResultSet:  # a location with no practitioners and no rooms yet
        rows = []
    else:
        with connection.cursor() as cursor:  # 9
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    room_set = set(room_ids)
    here = location.pk
    own = patient.pk if patient is not None else None
    for pid, rid, patient_id, loc_id, start, end, blocks, is_hold in rows:
        if is_hold and patient_id == own:
            continue  # your own hold does not hide the slot from you
        if pid in practitioners:
            if loc_id == here:
                busy[pid].append((start, blocks))
            else:
                gap = 60 * travel.get(frozenset((loc_id, here)), DEFAULT_TRAVEL_MINUTES)
                busy[pid].append((start - gap, blocks + gap))
        if rid in room_set:
            room_busy[rid].append((start, blocks))
        if patient_id == own and not is_hold:
            patient_busy.append((start, end))

    calendars = {
        pid: PractitionerCalendar(
            practitioner_id=pid,
            weekly=dict(weekly[pid]),
            extra=extra[pid],
            time_off=time_off[pid],
            certified=certified[pid],
            busy=Busy.from_seconds(busy[pid]),
        )
        for pid in ids
    }
    return Availability(
        location=location,
        rules=location_rules(location, opening, holidays),
        calendars=calendars,
        rooms=Rooms({rid: Busy.from_seconds(room_busy[rid]) for rid in room_ids}),
        patient_busy=Busy.from_seconds(patient_busy) if patient is not None else None,
        practitioners=practitioners,
        room_list=rooms,
    )


def upcoming_assessments(
    location: Location, start: dt.datetime, end: dt.datetime
) -> dict[int, dt.datetime]:
    """{patient id: start of their next assessment} at `location` between `start` and `end`,
    for intake's list of questionnaires missing before an assessment."""
    from booking.models import MOVABLE_STATUSES

    upcoming: dict[int, dt.datetime] = {}
    for patient_id, starts_at in (
        Appointment.objects.filter(
            location=location,
            service__kind="assessment",
            status__in=MOVABLE_STATUSES,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .order_by("starts_at")
        .values_list("patient_id", "starts_at")
    ):
        upcoming.setdefault(patient_id, starts_at)
    return upcoming


def latest_request_location(patient_id: int) -> int | None:
    """The location of the patient's latest appointment request that is not cancelled, for
    intake's "Where would you like to be seen?". Registered in BookingConfig.ready()."""
    from booking.models import Status

    return (
        Appointment.objects.filter(patient_id=patient_id)
        .exclude(status=Status.CANCELLED)
        .order_by("-created_at", "-pk")
        .values_list("location_id", flat=True)
        .first()
    )


def visits_for_intake(*, patient_ids=None, appointment_ids=None, lock=False) -> list:
    """Appointments as intake's outcome surveys see them (`intake.clinical.selectors.Visit`):
    which session of which course, whether it happened. One query; registered in
    BookingConfig.ready(). `lock`: the appointments' rows are locked as a status change locks
    them (a note being signed holds its visit so)."""
    from booking.models import Status
    from clinic.models import ServiceKind
    from intake.clinical.selectors import Visit, VisitState

    states = {
        Status.REQUESTED: VisitState.BOOKED,
        Status.CONFIRMED: VisitState.BOOKED,
        Status.CHECKED_IN: VisitState.BOOKED,
        Status.COMPLETED: VisitState.ATTENDED,
        Status.NO_SHOW: VisitState.MISSED,
        Status.CANCELLED: VisitState.CANCELLED,
    }
    appointments = Appointment.objects.select_related(
        "location", "practitioner__user", "service", "course"
    ).order_by("starts_at", "pk")
    if patient_ids is not None:
        appointments = appointments.filter(patient_id__in=patient_ids)
    if appointment_ids is not None:
        appointments = appointments.filter(pk__in=appointment_ids)
    if lock:
        appointments = appointments.select_for_update(of=("self",))
    return [
        Visit(
            appointment_id=a.pk,
            patient_id=a.patient_id,
            location=a.location,
            practitioner_id=a.practitioner_id,
            practitioner_name=a.practitioner.name,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            state=states[a.status],
            needling=a.service.kind == ServiceKind.DRY_NEEDLING,
            course_id=a.course_id,
            session_number=a.session_number,
            sessions_planned=a.course.sessions_planned if a.course_id else None,
        )
        for a in appointments
    ]


def practitioners_patients_may_choose(location: Location):
    """The practitioners a patient may choose online at `location`, as the request page lists
    them: working there, with a dry-needling certification current on some day they could book
    (an expired one does not count)."""
    first = location.today()
    last = first + dt.timedelta(days=location.booking_horizon_days)
    return Practitioner.objects.at(location).certified_between(first, last).select_related("user")
