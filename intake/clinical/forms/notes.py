"""Forms of the clinical notes. They validate and convert what the practitioner types; what a
note needs before it is signed, and the signing itself, live in the model and the services.

A draft may be saved half-written, so no field is required here; values must still be valid
(ranges, 4–6 sessions, 15/20/30 minutes, an adverse event's severity...).
"""

from __future__ import annotations

import datetime as dt

from crispy_forms.bootstrap import InlineCheckboxes, InlineRadios
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.utils import dateformat, timezone

from clinic.dates import LocalDateTimeField
from clinic.forms import DateInput
from clinic.models import Location
from intake.clinical.models import (
    MAX_GOALS,
    MAX_NEEDLES_PER_SITE,
    AdverseEvent,
    Amendment,
    AssessmentNote,
    Diagnosis,
    Muscle,
    SessionNote,
    Side,
)
from intake.clinical.selectors import find_visit
from intake.form_fields import form_helper, radio_formfield, reveal
from intake.zones import patient_zone


class NoteForm(forms.ModelForm):
    """What the assessment and the treatment-note forms share."""

    class Meta:
        formfield_callback = radio_formfield

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        for name, field in self.fields.items():
            # A draft may be half-written; only what the row cannot do without is required.
            model_field = model._meta.get_field(name) if name in self._meta.fields else None
            field.required = model_field is not None and not model_field.blank
        if "location" in self.fields:
            self.fields["location"].queryset = locations or Location.objects.none()
            self.fields["location"].empty_label = "Choose"
        self.helper = form_helper(self.layout())

    def layout(self) -> Layout:
        return Layout(*self.fields)

    def content(self) -> dict:
        """The note's clinical content as typed, for `save_note_draft` / `amend_note`."""
        return {
            name: self.cleaned_data[name]
            for name in (*self._meta.model.CLINICAL_FIELDS, "location")
            if name in self.cleaned_data
        }


class AssessmentForm(NoteForm):
    class Meta(NoteForm.Meta):
        model = AssessmentNote
        fields = (
            "location",
            *(
                name
                for name in AssessmentNote.CLINICAL_FIELDS
                if name not in ("flag_acknowledgements", "goals")
            ),
        )
        labels = {"location": "Seen at"}
        widgets = {
            "subjective": forms.Textarea(attrs={"rows": 10}),
            "gait_observation": forms.Textarea(attrs={"rows": 2}),
            "decision_reason": forms.Textarea(attrs={"rows": 3}),
            "home_exercises": forms.Textarea(attrs={"rows": 3}),
            "dorsiflexion_left": forms.NumberInput(attrs={"min": -30, "max": 60}),
            "dorsiflexion_right": forms.NumberInput(attrs={"min": -30, "max": 60}),
        }
        help_texts = {"subjective": "Filled in from the patient's questionnaire; edit freely."}
        error_messages = {
            "dorsiflexion_left": {"max_value": "Enter −30 to 60 degrees."},
            "dorsiflexion_right": {"max_value": "Enter −30 to 60 degrees."},
        }

    def __init__(self, *args, flags=(), answered_again=False, **kwargs):
        self.flags = list(flags)  # (field, reason, details) of the current questionnaire
        super().__init__(*args, **kwargs)
        self.fields["planned_sessions"].error_messages["invalid_choice"] = (
            "A course has 4, 5 or 6 sessions."
        )
        self.fields["session_minutes"].error_messages["invalid_choice"] = (
            "A session lasts 15, 20 or 30 minutes."
        )
        self.fields["interval_days"].error_messages["invalid_choice"] = (
            "Choose twice a week, weekly or every two weeks."
        )
        for name in ("dorsiflexion_left", "dorsiflexion_right"):
            self.fields[name].error_messages["min_value"] = "Enter −30 to 60 degrees."
        acknowledged = self.instance.flag_acknowledgements or {}
        for field, reason, details in self.flags:
            self.fields[f"ack_{field}"] = forms.BooleanField(
                label=f"Acknowledged: {reason}",
                required=False,
                # Not ticked for the practitioner when the patient has answered again since
                # the note was signed: the acknowledgement kept read the earlier answer.
                initial=field in acknowledged and not answered_again,
                help_text=f"The patient wrote: “{details}”"
                + (
                    " (answered again since this note was signed: tick once reviewed)"
                    if answered_again
                    else ""
                ),
            )
            self.fields[f"ack_{field}_note"] = forms.CharField(
                label=f"How it is addressed ({reason.lower()})",
                required=False,
                max_length=500,
                initial=acknowledged.get(field, ""),
            )
        goals = self.instance.goals or []
        for n in range(1, MAX_GOALS + 1):
            goal = goals[n - 1] if n <= len(goals) else {}
            self.fields[f"goal_{n}"] = forms.CharField(
                label=f"Goal {n}", required=False, max_length=200, initial=goal.get("goal", "")
            )
            self.fields[f"goal_{n}_target"] = forms.DateField(
                label=f"Target date for goal {n}",
                required=False,
                widget=DateInput(),
                initial=goal.get("target") or None,
            )
        self.helper = form_helper(self.layout())

    def layout(self) -> Layout:
        flags = [
            Div(f"ack_{field}", f"ack_{field}_note", css_class="border-start ps-3 mb-2")
            for field, _, _ in self.flags
        ]
        return Layout(
            Field("location", css_class="w-auto"),
            Fieldset("Subjective", "subjective"),
            Fieldset(
                "Objective",
                Div(
                    Div(InlineRadios("tender_heel_left"), css_class="col-md-6"),
                    Div(InlineRadios("tender_heel_right"), css_class="col-md-6"),
                    Div(InlineRadios("windlass_left"), css_class="col-md-6"),
                    Div(InlineRadios("windlass_right"), css_class="col-md-6"),
                    Div(Field("dorsiflexion_left"), css_class="col-md-6"),
                    Div(Field("dorsiflexion_right"), css_class="col-md-6"),
                    css_class="row",
                ),
                InlineRadios("calf_tightness"),
                InlineRadios("foot_posture"),
                "gait_observation",
                Div("trigger_points", css_class="checkbox-columns"),
            ),
            Fieldset(
                "Assessment",
                InlineRadios("diagnosis"),
                InlineRadios("diagnosis_side"),
                reveal("diagnosis", Diagnosis.OTHER, "diagnosis_other"),
                *(
                    [HTML('<h3 class="h6 mt-3">Screening answers to acknowledge</h3>'), *flags]
                    if flags
                    else []
                ),
            ),
            Fieldset(
                "Decision",
                InlineRadios("needling_appropriate"),
                "decision_reason",
            ),
            Fieldset(
                "Plan",
                reveal(
                    "needling_appropriate",
                    "True",
                    InlineRadios("planned_sessions"),
                    InlineRadios("session_minutes"),
                    InlineRadios("interval_days"),
                ),
                InlineCheckboxes("combined_care"),
                "home_exercises",
                *(
                    Div(
                        Div(Field(f"goal_{n}"), css_class="col-md-8"),
                        Div(Field(f"goal_{n}_target"), css_class="col-md-4"),
                        css_class="row",
                    )
                    for n in range(1, MAX_GOALS + 1)
                ),
            ),
        )

    def clean(self):
        data = super().clean()
        if data.get("diagnosis") != Diagnosis.OTHER:
            data["diagnosis_other"] = ""
        if data.get("needling_appropriate") is False:
            data["planned_sessions"] = data["session_minutes"] = None
        acknowledgements = {
            field: note
            for field, note in (self.instance.flag_acknowledgements or {}).items()
            if field not in {f for f, _, _ in self.flags}
        }
        for field, _, _ in self.flags:
            if data.get(f"ack_{field}"):
                acknowledgements[field] = data.get(f"ack_{field}_note", "")
            elif data.get(f"ack_{field}_note"):
                self.add_error(f"ack_{field}", "Tick to acknowledge, or clear the note.")
        data["flag_acknowledgements"] = acknowledgements
        goals = []
        # The assessment's own day, on its clock: a goal is met after the note that sets it
        # (an amendment's form holds the note as first written, so the same day counts).
        note = self.instance
        assessed_on = (
            timezone.localdate(note.created_at, patient_zone(note.patient, note.location))
            if note.patient_id
            else None
        )
        for n in range(1, MAX_GOALS + 1):
            goal, target = data.get(f"goal_{n}", ""), data.get(f"goal_{n}_target")
            if target and assessed_on and target < assessed_on:
                self.add_error(
                    f"goal_{n}_target",
                    f"A goal's target date cannot be before the assessment "
                    f"({dateformat.format(assessed_on, 'j F Y')}).",
                )
            elif target and not goal:
                self.add_error(f"goal_{n}", "Write the goal for this target date.")
            elif goal:
                goals.append({"goal": goal, "target": target.isoformat() if target else ""})
        data["goals"] = goals
        return data


class SessionNoteForm(NoteForm):
    """One session's note. Muscles needled are a grid: needles and twitch response for each
    muscle and side of the brief's list."""

    class Meta(NoteForm.Meta):
        model = SessionNote
        fields = (
            "location",
            *(name for name in SessionNote.CLINICAL_FIELDS if name != "muscles_needled"),
        )
        labels = {"location": "Location"}
        field_classes = {"performed_at": LocalDateTimeField}
        widgets = {
            "performed_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "session_number": forms.NumberInput(attrs={"min": 1, "class": "w-auto"}),
            "retention_minutes": forms.NumberInput(attrs={"min": 0, "max": 60}),
            "reaction_since_last": forms.Textarea(attrs={"rows": 2}),
            "adverse_event_action": forms.Textarea(attrs={"rows": 2}),
            "advice_given": forms.Textarea(attrs={"rows": 2}),
            "plan_next": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {
            "retention_minutes": {"max_value": "Enter at most 60 minutes."},
            "session_number": {"min_value": "Sessions are numbered from 1."},
        }

    pre_session_pain = forms.TypedChoiceField(
        label="Pain before the session (0–10)",
        choices=[(str(n), str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a pain score from 0 to 10."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["performed_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        # A session in the hour the clocks go back keeps its instant when the time is unchanged.
        self.fields["performed_at"].known = self.instance.performed_at
        # A note records a booked session: its number is the appointment's, and it is not dated
        # before the session starts (the database holds both: intake 0010).
        self.session_starts = None
        if self.instance.appointment_id:
            self.fields["session_number"].disabled = True
            self.fields["session_number"].help_text = "The session booked."
            visit = find_visit(self.instance.appointment_id)
            self.session_starts = visit.starts_at if visit else None
        needled = {
            (row["muscle"], row["side"]): row for row in (self.instance.muscles_needled or [])
        }
        self.grid = []
        for muscle in Muscle:
            cells = []
            for side in Side:
                row = needled.get((muscle.value, side.value), {})
                needles = f"needles_{muscle.value}_{side.value}"
                twitch = f"twitch_{muscle.value}_{side.value}"
                self.fields[needles] = forms.IntegerField(
                    label=f"{muscle.label}, {side.label.lower()}: needles",
                    required=False,
                    min_value=0,
                    max_value=MAX_NEEDLES_PER_SITE,
                    initial=row.get("needles"),
                    widget=forms.NumberInput(attrs={"min": 0, "max": MAX_NEEDLES_PER_SITE}),
                    error_messages={"max_value": f"At most {MAX_NEEDLES_PER_SITE} needles."},
                )
                self.fields[twitch] = forms.BooleanField(
                    label=f"{muscle.label}, {side.label.lower()}: local twitch response",
                    required=False,
                    initial=row.get("twitch", False),
                )
                cells.append((needles, twitch))
            self.grid.append((muscle, cells))
        self.helper = form_helper(self.layout())

    def grid_rows(self):
        """[(muscle label, [(needles field, twitch field) for left and right])] for the
        template's table."""
        return [
            (muscle.label, [(self[needles], self[twitch]) for needles, twitch in cells])
            for muscle, cells in self.grid
        ]

    def layout(self) -> Layout:
        return Layout(
            Div(
                Div(Field("session_number"), css_class="col-sm-3"),
                Div(Field("performed_at"), css_class="col-sm-5"),
                Div(Field("location"), css_class="col-sm-4"),
                css_class="row",
            ),
            InlineRadios("pre_session_pain"),
            "reaction_since_last",
            # A table: needles and twitch response for each muscle and side.
            HTML('{% include "intake/clinical/notes/_muscle_grid.html" %}'),
            InlineRadios("technique"),
            Field("retention_minutes", css_class="w-auto"),
            InlineCheckboxes("combined_care_given"),
            InlineRadios("tolerance"),
            Fieldset(
                "Adverse events",
                InlineCheckboxes("adverse_events"),
                reveal("adverse_events", AdverseEvent.OTHER, "adverse_event_other"),
                InlineRadios("adverse_event_severity"),
                "adverse_event_action",
            ),
            "advice_given",
            "plan_next",
        )

    def clean_performed_at(self):
        performed = self.cleaned_data.get("performed_at")
        if performed and performed > timezone.now() + dt.timedelta(hours=1):
            raise forms.ValidationError("The session cannot be in the future.")
        if performed and self.session_starts and performed < self.session_starts:
            starts = dateformat.format(timezone.localtime(self.session_starts), "j F Y, g:i A")
            raise forms.ValidationError(
                f"The session starts {starts}: the note cannot be dated before."
            )
        return performed

    def clean(self):
        data = super().clean()
        needled = []
        for muscle, cells in self.grid:
            for (needles_name, twitch_name), side in zip(cells, Side, strict=True):
                needles, twitch = data.get(needles_name), data.get(twitch_name)
                if needles:
                    needled.append(
                        {
                            "muscle": muscle.value,
                            "side": side.value,
                            "needles": needles,
                            "twitch": bool(twitch),
                        }
                    )
                elif twitch:
                    self.add_error(
                        needles_name, "Record the needles where you saw a twitch response."
                    )
        data["muscles_needled"] = needled

        events = data.get("adverse_events") or []
        if AdverseEvent.NONE in events and len(events) > 1:
            self.add_error("adverse_events", "“None” cannot go with an adverse event.")
        elif events and AdverseEvent.NONE not in events:
            if not data.get("adverse_event_severity"):
                self.add_error("adverse_event_severity", "Give the severity of the adverse event.")
            if AdverseEvent.OTHER in events and not data.get("adverse_event_other"):
                self.add_error("adverse_event_other", "Name the other adverse event.")
        else:
            data["adverse_event_other"] = data["adverse_event_severity"] = ""
            data["adverse_event_action"] = ""
        if AdverseEvent.OTHER not in events:
            data["adverse_event_other"] = ""
        return data


def amendment_form(form_class: type[NoteForm]) -> type[NoteForm]:
    """The note's form with what an amendment adds: why, an addendum, the password."""

    class AmendmentForm(form_class):
        reason = forms.CharField(
            label="Why are you amending this note?",
            widget=forms.Textarea(attrs={"rows": 2}),
            max_length=1000,
        )
        addendum = forms.CharField(
            label="Addendum (optional)",
            widget=forms.Textarea(attrs={"rows": 3}),
            required=False,
            # The database's bound (bounded_text): a longer one is said here, not a 500.
            max_length=Amendment._meta.get_field("addendum").max_length,
            help_text="Text added to the note as it stands, for example a later observation.",
        )
        password = forms.CharField(
            label="Your password, to sign the amendment",
            widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["reason"].required = True
            self.fields["password"].required = True
            self.fields["reason"].error_messages["required"] = "Say why you amend the note."
            self.fields["password"].error_messages["required"] = "Enter your password to sign."

    AmendmentForm.__name__ = f"{form_class.__name__}Amendment"
    return AmendmentForm


class SignForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to sign."},
        help_text="Signing locks the note. Later changes are amendments, kept beside it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(Layout("password"))
