"""Booking forms: they read and convert what was typed or chosen; the rules live in services."""

from __future__ import annotations

import datetime as dt

from django import forms

from booking.availability import NonexistentLocalTime, aware_strict
from booking.models import Room
from booking.services.waitlist import PlaceLinkRefused
from booking.services.writing import BookingError
from clinic import dates
from clinic.forms import CalendarDateField, DateInput, ShortListField
from clinic.models import Location, Patient, Practitioner, Service, Weekday
from clinic.templatetags.clinic_time import at_location


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class NearestForm(forms.Form):
    near = forms.CharField(
        label="Your postal code, ZIP code or town",
        max_length=60,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "placeholder": "e.g. M4G 1A1, 20852, Bethesda"}
        ),
    )


def parse_slot_choice(value: str) -> tuple[int, dt.datetime] | None:
    """A slot radio's value, '<practitioner id>|<ISO start in UTC>', or None if malformed."""
    practitioner, _, start = (value or "").partition("|")
    try:
        starts_at = dates.parse_instant(start)
        practitioner_id = int(practitioner)
    except ValueError:
        return None
    return practitioner_id, starts_at.astimezone(dt.UTC)


def slot_choice_value(practitioner_id: int, starts_at: dt.datetime) -> str:
    return f"{practitioner_id}|{starts_at.astimezone(dt.UTC).isoformat()}"


class SlotChoiceForm(forms.Form):
    """The slot a patient picked from the list (a radio per free time)."""

    slot = forms.CharField(error_messages={"required": "Choose a time first."})

    def clean_slot(self) -> tuple[int, dt.datetime]:
        parsed = parse_slot_choice(self.cleaned_data["slot"])
        if parsed is None:
            raise forms.ValidationError("That time could not be read; please choose it again.")
        return parsed


class RequestConfirmForm(forms.Form):
    note = forms.CharField(
        label="Anything the clinic should know before your visit? (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. I am unwell"}),
        error_messages={"required": "Please give a reason, so the clinic can help."},
    )


class LocalDateTimeMixin:
    """Combine a local date and time at a location into an aware instant."""

    def aware_at(
        self, location: Location, day: dt.date, wall: dt.time, field: str
    ) -> dt.datetime | None:
        try:
            return aware_strict(day, wall, location.zone)
        except NonexistentLocalTime as gap:
            self.add_error(field, str(gap))
            return None


class SessionForm(LocalDateTimeMixin, forms.Form):
    """One session of a course as set by the person booking it."""

    date = CalendarDateField(widget=DateInput(), input_formats=["%Y-%m-%d"])
    time = forms.TimeField(widget=TimeInput(), input_formats=["%H:%M", "%H:%M:%S"])
    location = ShortListField(queryset=Location.objects.none(), empty_label=None)
    practitioner = ShortListField(queryset=Practitioner.objects.none(), empty_label=None)

    def __init__(self, *args, locations=None, practitioners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = (
            locations if locations is not None else Location.objects.none()
        )
        self.fields["practitioner"].queryset = (
            practitioners if practitioners is not None else Practitioner.objects.none()
        )
        self.fields["practitioner"].label_from_instance = lambda p: p.name
        # The rows of a course are drawn by hand (a table), not by crispy: style them here.
        for name, field in self.fields.items():
            kind = "form-select" if name in {"location", "practitioner"} else "form-control"
            field.widget.attrs.setdefault("class", f"{kind} {kind}-sm")

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time") and data.get("location"):
            data["starts_at"] = self.aware_at(data["location"], data["date"], data["time"], "time")
        return data


SessionFormSet = forms.formset_factory(
    SessionForm, extra=0, min_num=4, max_num=6, validate_min=True, validate_max=True
)


class FirstSessionForm(SessionForm):
    """Where and when the first session of a course should be; the rest follow the plan."""


class ReportFilterForm(forms.Form):
    """The results dashboard's period and scope. `locations` and `practitioners` are the
    choices the viewer may make (a practitioner has only themselves)."""

    MAX_DAYS = 366 * 5

    start = CalendarDateField(label="From", widget=DateInput)
    end = CalendarDateField(label="To (included)", widget=DateInput)
    location = ShortListField(
        queryset=Location.objects.none(), required=False, empty_label="All locations"
    )
    practitioner = ShortListField(
        queryset=Practitioner.objects.none(), required=False, empty_label="All practitioners"
    )

    def __init__(self, *args, locations, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["practitioner"].queryset = practitioners
        self.fields["practitioner"].label_from_instance = lambda p: p.name

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end of the period must not be before its start.")
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("end", "Choose a period of at most five years.")
        return data


class WaitlistForm(forms.Form):
    practitioner = ShortListField(
        queryset=Practitioner.objects.none(),
        required=False,
        empty_label="Anyone",
        label="With",
        error_messages={
            "invalid_choice": "Choose one of the practitioners listed: online, only "
            "practitioners trained in dry needling can be chosen."
        },
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Days that suit you",
        error_messages={"required": "Choose at least one day."},
    )
    earliest_time = forms.TimeField(widget=TimeInput(), label="From", initial=dt.time(8))
    latest_time = forms.TimeField(widget=TimeInput(), label="Until", initial=dt.time(18))

    # Whether a patient with an appointment to bring forward must say which (the patient's
    # own form: a second assessment is never what they ask for); the desk may choose none.
    replaces_required = True
    replaces_label = "Which appointment should move to an earlier time?"
    replaces_help = (
        "When you take a time offered to you, this appointment moves there: you keep one "
        "appointment, not two."
    )

    def __init__(self, *args, practitioners=None, replaceable=None, **kwargs):
        super().__init__(*args, **kwargs)
        if practitioners is not None:
            self.fields["practitioner"].queryset = practitioners
        self.fields["practitioner"].label_from_instance = lambda p: p.name
        if replaceable is not None and replaceable.exists():
            self.fields["replaces"] = self._replaces_field(replaceable)
            self.order_fields(["replaces", *(self.field_order or [])])

    def _replaces_field(self, replaceable) -> forms.ModelChoiceField:
        field = ShortListField(
            queryset=replaceable,
            required=self.replaces_required,
            empty_label=None if self.replaces_required else "No: a new appointment",
            widget=forms.RadioSelect if self.replaces_required else forms.Select,
            label=self.replaces_label,
            help_text=self.replaces_help,
            error_messages={
                "required": "Choose the appointment to move to an earlier time.",
                "invalid_choice": "That appointment can no longer be moved earlier (it was "
                "cancelled, moved or has passed): choose one listed.",
            },
        )
        field.label_from_instance = lambda a: (
            f"{a.service.name} on {at_location(a.starts_at, a.location, 'l j F, g:i A')} "
            f"with {a.practitioner.name}"
        )
        if len(field.queryset) == 1 and self.replaces_required:
            field.initial = field.queryset[0].pk
        return field

    def clean(self):
        data = super().clean()
        earliest, latest = data.get("earliest_time"), data.get("latest_time")
        if earliest and latest and earliest >= latest:
            self.add_error(
                "latest_time", "The end of the times that suit you must be after the start."
            )
        return data

    def show_refusal(self, refused: BookingError) -> None:
        """Show why `join_waitlist` refused the place: on the appointment to bring forward when
        it was that one, otherwise above the form."""
        self.add_error("replaces" if isinstance(refused, PlaceLinkRefused) else None, str(refused))

    def preferences(self) -> dict:
        """The times that suit the patient, and the appointment to bring forward if any, as
        `join_waitlist` takes them (once valid)."""
        data = self.cleaned_data
        return {
            "weekdays": data["weekdays"],
            "earliest_time": data["earliest_time"],
            "latest_time": data["latest_time"],
            "practitioner": data["practitioner"],
            "replaces": data.get("replaces"),
        }


# --- The front desk -------------------------------------------------------------------------


class DeskCancelForm(forms.Form):
    """A cancellation taken at the desk: who asked, and why (late or not is computed)."""

    cancelled_by = forms.ChoiceField(
        label="Who asked to cancel?",
        choices=[("patient", "The patient"), ("clinic", "The clinic")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say who asked to cancel."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. unwell, practitioner away"}),
        error_messages={"required": "Give the reason for the cancellation."},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (the patient will read this)",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the reason the patient will read."},
    )


class UndoStatusForm(forms.Form):
    """Why a no-show or a check-in was wrong (kept in the appointment's history)."""

    reason = forms.CharField(
        label="What happened?",
        max_length=200,
        error_messages={"required": "Say what happened."},
    )


class ProposeMessageForm(forms.Form):
    message = forms.CharField(
        label="Message to the patient",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="The time you asked for is not available; would this time suit you?",
        error_messages={"required": "Write a short message for the patient."},
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, phone or email",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "type": "search"}),
    )
    born = CalendarDateField(
        label="Date of birth",
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
    )


class NewPatientForm(forms.ModelForm):
    """The minimum to book someone who phones or walks in; the rest comes with their intake."""

    class Meta:
        model = Patient
        fields = ["first_name", "last_name", "date_of_birth", "phone", "email"]
        widgets = {
            "date_of_birth": DateInput(),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }
        help_texts = {"email": "Optional: for confirmations and to sign up online later."}


class DeskBookingForm(forms.Form):
    """The slot chosen on a staff booking page, with an optional room."""

    slot = forms.CharField(error_messages={"required": "Choose a time first."})
    room = ShortListField(
        queryset=Room.objects.none(),
        required=False,
        empty_label="Any free room",
        error_messages={"invalid_choice": "That room is not at this location."},
    )

    def __init__(self, *args, location: Location | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if location is not None:  # the rooms in use there (none to choose without a location)
            self.fields["room"].queryset = Room.objects.filter(location=location, is_active=True)

    def clean_slot(self) -> tuple[int, dt.datetime]:
        parsed = parse_slot_choice(self.cleaned_data["slot"])
        if parsed is None:
            raise forms.ValidationError("That time could not be read; please choose it again.")
        return parsed


class DeskWaitlistForm(WaitlistForm):
    """The front desk puts a patient on the waitlist for them: also which service, how long."""

    service = ShortListField(queryset=Service.objects.none(), empty_label=None)
    minutes = forms.TypedChoiceField(coerce=int, choices=[], label="Length (minutes)")

    field_order = ["service", "minutes", "practitioner", "weekdays", "earliest_time"]
    replaces_required = False
    replaces_label = "For an earlier time than"
    replaces_help = (
        "When they take a time offered to them, this appointment moves there (with its own "
        "length): they keep one appointment, not two."
    )

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The desk chooses among everyone working at the location, as when it books.
        self.fields["practitioner"].error_messages["invalid_choice"] = (
            "Choose one of the practitioners listed (those working at this location)."
        )
        services = list(services or [])
        self.fields["service"].queryset = Service.objects.filter(pk__in=[s.pk for s in services])
        lengths = sorted({m for s in services for m in s.allowed_minutes})
        self.fields["minutes"].choices = [(m, f"{m} minutes") for m in lengths]

    def clean(self):
        data = super().clean()
        service, minutes = data.get("service"), data.get("minutes")
        if service and minutes and minutes not in service.allowed_minutes:
            allowed = ", ".join(str(m) for m in service.allowed_minutes)
            self.add_error("minutes", f"{service.name} lasts {allowed} minutes.")
        return data


class ReminderPreferenceForm(forms.Form):
    reminders = forms.BooleanField(
        label="Email me reminders before my appointments",
        required=False,
        help_text="Confirmations, changes and cancellations are always emailed.",
    )
