"""Forms of intake: they validate and convert what people type; the rules of the workflow
(locking, revisions, consent versions) live in `intake.questionnaire.services`.

Every form is laid out with a crispy FormHelper (bootstrap5): radio groups are fieldsets with a
legend, every input has a label, and errors appear on the field they concern.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from clinic.forms import DateInput, ShortListField
from clinic.models import Location, Patient
from intake.form_fields import ScoreScale, form_helper, radio_formfield, reveal
from intake.questionnaire.models import (
    HEIGHT_RANGE_CM,
    MAX_WALKING_MINUTES,
    WEIGHT_RANGE_KG,
    Intake,
    TreatmentOutcome,
    Units,
)
from intake.questionnaire.questions import SCREENING, STEPS_BY_SLUG, SYMPTOMS, TREATMENTS, Step
from intake.questionnaire.selectors import suggested_location_id

# Error codes that only mean "not answered yet": a draft may be saved with them.
UNANSWERED = ("required", "answer_needed")
SCORE_CHOICES = [(str(n), str(n)) for n in range(11)]
CM_PER_INCH = Decimal("2.54")
KG_PER_LB = Decimal("0.45359237")


class ScoreField(forms.TypedChoiceField):
    """A 0–10 rating as eleven radio buttons."""

    widget = forms.RadioSelect

    def __init__(self, *, meaning: str, **kwargs):
        for unused in ("max_value", "min_value", "max_length"):
            kwargs.pop(unused, None)
        kwargs.setdefault("help_text", meaning)
        super().__init__(choices=SCORE_CHOICES, coerce=int, empty_value=None, **kwargs)
        self.error_messages["invalid_choice"] = f"Choose a number from 0 to 10 ({meaning})."


PAIN_MEANING = "0 means no pain, 10 the worst pain you can imagine"
ACTIVITY_MEANING = "0 means you cannot do it at all, 10 that you do it as well as before"


def _formfield(model_field: models.Field, **kwargs) -> forms.Field | None:
    """The questionnaire's fields: 0–10 scores as rows of radio buttons, the rest as
    `radio_formfield` makes them."""
    common = {"label": capfirst(model_field.verbose_name), "help_text": model_field.help_text}
    if model_field.name.startswith("pain_"):
        return ScoreField(meaning=PAIN_MEANING, **common)
    if model_field.name.endswith("_score"):
        return ScoreField(meaning=ACTIVITY_MEANING, **common)
    return radio_formfield(model_field, **kwargs)


class StepForm(forms.ModelForm):
    """One step of the questionnaire.

    With `complete=True` every question must be answered (to go on to the next step); with
    `complete=False` unanswered questions are allowed (to save and finish later) but what is
    answered must still be valid."""

    step: Step
    optional: frozenset[str] = frozenset()
    intro = ""

    class Meta:
        model = Intake
        fields: tuple[str, ...] = ()
        formfield_callback = _formfield

    def __init__(self, *args, patient: Patient, complete: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.complete = complete
        for name, field in self.fields.items():
            field.required = name not in self.optional
            field.error_messages["required"] = "Please answer this question."
        self.helper = form_helper(self.layout())

    def layout(self) -> Layout:
        return Layout(*self.fields)

    def full_clean(self) -> None:
        super().full_clean()
        if self.complete or not self._errors:
            return
        # Saving for later: questions not answered yet are not errors.
        for name in list(self._errors):
            kept = [e for e in self._errors[name].as_data() if e.code not in UNANSWERED]
            if kept:
                self._errors[name] = self.error_class(kept)
                continue
            del self._errors[name]
            if name in self.fields:
                self.cleaned_data[name] = getattr(self.fields[name], "empty_value", None)

    def needs_answer(self, name: str, message: str) -> None:
        if self.cleaned_data.get(name) in (None, ""):
            self.add_error(name, forms.ValidationError(message, code="answer_needed"))

    def answers(self) -> dict:
        """The cleaned answers of this step, ready for `save_intake_step`."""
        return {name: self.cleaned_data.get(name) for name in self.step.fields}


class ContactStepForm(StepForm):
    step = STEPS_BY_SLUG["contact"]
    optional = frozenset({"email"})

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["contact"].fields
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "emergency_contact_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }
        labels = {"preferred_location": "Where would you like to be seen?"}
        help_texts = {
            "emergency_contact_name": "Someone we can call if you feel unwell during treatment.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        location = self.fields["preferred_location"]
        location.queryset = Location.objects.filter(is_active=True).with_dry_needling_flag()
        location.empty_label = "Choose a location"
        location.label_from_instance = lambda place: (
            place.name if place.offers_dry_needling else f"{place.name} (no dry needling)"
        )
        if not self.instance.preferred_location_id:
            self.initial["preferred_location"] = suggested_location_id(self.patient)
        if self.patient.user_id:
            email = self.fields["email"]
            email.disabled = True
            email.initial = self.patient.user.email
            email.help_text = "This is your login; change it from your account."
            self.initial["email"] = self.patient.user.email

    def layout(self) -> Layout:
        return Layout(
            HTML(
                '<p class="mb-3">Name and date of birth on file: <strong>{{ patient.full_name }}'
                '</strong>, {{ patient.date_of_birth|date:"j F Y" }}. If these are wrong, '
                "please tell the front desk.</p>"
            ),
            "phone",
            "email",
            Fieldset(
                "Emergency contact",
                "emergency_contact_name",
                "emergency_contact_phone",
            ),
            "preferred_location",
        )


class ComplaintStepForm(StepForm):
    step = STEPS_BY_SLUG["complaint"]

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["complaint"].fields
        widgets = {"weeks_of_pain": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"})}
        error_messages = {
            "weeks_of_pain": {
                "max_value": "That is more than 40 years; please check the number of weeks.",
            }
        }

    def clean_weeks_of_pain(self):
        weeks = self.cleaned_data.get("weeks_of_pain")
        born = self.patient.date_of_birth
        today = timezone.localdate(timezone=self.patient.zone)
        if weeks is not None and born and dt.timedelta(weeks=weeks) > today - born:
            raise forms.ValidationError(
                "That is longer than you have been alive; please check the number of weeks."
            )
        return weeks

    def layout(self) -> Layout:
        return Layout(
            InlineRadios("affected_foot"),
            Field("weeks_of_pain", css_class="w-auto"),
            InlineRadios("onset"),
            InlineRadios("had_before"),
        )


class SymptomsStepForm(StepForm):
    step = STEPS_BY_SLUG["symptoms"]
    intro = "Do you have any of these? Answer yes or no to each."

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["symptoms"].fields

    def layout(self) -> Layout:
        return Layout(*(InlineRadios(q.field) for q in SYMPTOMS))


class PainStepForm(StepForm):
    step = STEPS_BY_SLUG["pain"]
    optional = frozenset(
        {"activity_1_score", "activity_2", "activity_2_score", "activity_3", "activity_3_score"}
    )

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["pain"].fields
        widgets = {
            "walking_minutes": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "goals": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "activity_1": "An activity that matters to you",
            "activity_2": "Another activity (optional)",
            "activity_3": "A third activity (optional)",
        }
        help_texts = {
            "walking_minutes": "If the pain does not stop you, how long you usually walk.",
            "activity_1": "For example: walking the dog, playing tennis, standing at work.",
            "goals": "In your own words, for example “walk the dog without pain” or “run 5 km "
            "again”.",
        }
        error_messages = {
            "walking_minutes": {
                "max_value": f"Enter at most {MAX_WALKING_MINUTES} minutes (10 hours)."
            },
        }

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                "Your pain",
                *(
                    ScoreScale(name, low="no pain", high="worst imaginable")
                    for name in ("pain_first_steps", "pain_average", "pain_worst")
                ),
            ),
            Fieldset("Daily life", Field("walking_minutes", css_class="w-auto")),
            Fieldset(
                "Up to three activities that matter to you, and how well you can do them now",
                *(
                    Div(f"activity_{n}", InlineRadios(f"activity_{n}_score"), css_class="mb-2")
                    for n in (1, 2, 3)
                ),
            ),
            "goals",
        )

    def clean(self):
        data = super().clean()
        worst = data.get("pain_worst")
        others = [data.get("pain_average"), data.get("pain_first_steps")]
        if worst is not None and any(other is not None and other > worst for other in others):
            self.add_error(
                "pain_worst",
                "Your worst pain cannot be lower than your average pain or your pain with "
                "the first steps; please check these three scores.",
            )
        for n in (1, 2, 3):
            named, score = data.get(f"activity_{n}"), data.get(f"activity_{n}_score")
            if named and score is None:
                self.needs_answer(f"activity_{n}_score", "Rate how well you can do it now.")
            if score is not None and not named:
                self.add_error(f"activity_{n}", "Name the activity you rated.")
        return data


def _round(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _rounded_within(value: Decimal, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    """`value` rounded to hundredths if that is within `bounds`, else None. A value far
    outside is refused before rounding: a typed 10**30 feet has more digits than a Decimal
    keeps, and rounding it raises InvalidOperation."""
    low, high = bounds
    if not low - 1 <= value <= high + 1:
        return None
    rounded = _round(value)
    return rounded if low <= rounded <= high else None


def _plain(value: Decimal) -> Decimal:
    """180.0 -> 180 and 9.50 -> 9.5, never 1.8E+2."""
    return Decimal(format(value.normalize(), "f"))


class RiskStepForm(StepForm):
    step = STEPS_BY_SLUG["risk"]
    optional = frozenset({"height_cm", "weight_kg", "high_impact_details"})

    height_feet = forms.IntegerField(label="Height: feet", required=False, min_value=0)
    height_inches = forms.DecimalField(
        label="and inches", required=False, min_value=0, max_value=Decimal("11.99")
    )
    weight_lb = forms.DecimalField(label="Weight (pounds)", required=False, min_value=0)

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["risk"].fields
        widgets = {
            "height_cm": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "weight_kg": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "standing_hours": forms.NumberInput(attrs={"min": 0, "max": 24, "step": "0.5"}),
        }
        help_texts = {"standing_hours": "At work and at home, on a usual day."}
        error_messages = {
            "standing_hours": {
                "max_value": "There are only 24 hours in a day.",
                "min_value": "Enter 0 or more hours.",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("height_feet", "height_inches", "weight_lb"):
            self.fields[name].required = False
        intake = self.instance
        if intake.measurement_units == Units.US:
            if intake.height_cm:
                # Rounded to the inches field's hundredths before splitting, so a stored
                # 5 ft 11.98 in reads back as typed, and 11.996 in carries into 6 ft 0 in
                # rather than showing 12 in, which the field would refuse.
                inches = _round(intake.height_cm / CM_PER_INCH)
                feet = int(inches // 12)
                self.initial["height_feet"] = feet
                self.initial["height_inches"] = _plain(inches - feet * 12)
            if intake.weight_kg:
                self.initial["weight_lb"] = _plain(_round(intake.weight_kg / KG_PER_LB, "0.1"))

    def layout(self) -> Layout:
        return Layout(
            HTML(
                '<p class="mb-3">Your age: {{ patient_age }}. We work out your body-mass '
                "index from your height and weight.</p>"
            ),
            InlineRadios("measurement_units"),
            reveal(
                "measurement_units",
                Units.METRIC,
                Div(
                    Div(Field("height_cm"), css_class="col-sm-4"),
                    Div(Field("weight_kg"), css_class="col-sm-4"),
                    css_class="row",
                ),
            ),
            reveal(
                "measurement_units",
                Units.US,
                Div(
                    Div(Field("height_feet"), css_class="col-sm-3"),
                    Div(Field("height_inches"), css_class="col-sm-3"),
                    Div(Field("weight_lb"), css_class="col-sm-4"),
                    css_class="row",
                ),
            ),
            InlineRadios("foot_type"),
            InlineRadios("high_impact_activity"),
            reveal("high_impact_activity", "True", "high_impact_details"),
            Field("standing_hours", css_class="w-auto"),
            InlineRadios("tight_calves"),
            InlineRadios("unsupportive_footwear"),
        )

    def clean(self):
        data = super().clean()
        if data.get("measurement_units") == Units.US:
            self._clean_us_units(data)
        else:
            self._clean_metric(data)
        if data.get("high_impact_activity"):
            self.needs_answer("high_impact_details", "Say which activity and how much a week.")
        else:
            data["high_impact_details"] = ""
        return data

    def _clean_metric(self, data) -> None:
        low, high = HEIGHT_RANGE_CM
        height = data.get("height_cm")
        if height is None:
            self.needs_answer("height_cm", "Enter your height in centimetres.")
        elif not low <= height <= high:
            self.add_error("height_cm", f"Enter a height between {low} and {high} cm.")
        low, high = WEIGHT_RANGE_KG
        weight = data.get("weight_kg")
        if weight is None:
            self.needs_answer("weight_kg", "Enter your weight in kilograms.")
        elif not low <= weight <= high:
            self.add_error("weight_kg", f"Enter a weight between {low} and {high} kg.")

    def _clean_us_units(self, data) -> None:
        feet, inches, pounds = (data.get(n) for n in ("height_feet", "height_inches", "weight_lb"))
        data["height_cm"] = data["weight_kg"] = None
        if feet is None:
            self.needs_answer("height_feet", "Enter your height in feet and inches.")
        else:
            height = _rounded_within((feet * 12 + (inches or 0)) * CM_PER_INCH, HEIGHT_RANGE_CM)
            if height is not None:
                data["height_cm"] = height
            else:
                self.add_error("height_feet", "Enter a height between 3 ft and 8 ft 2 in.")
        if pounds is None:
            self.needs_answer("weight_lb", "Enter your weight in pounds.")
        else:
            weight = _rounded_within(pounds * KG_PER_LB, WEIGHT_RANGE_KG)
            if weight is not None:
                data["weight_kg"] = weight
            else:
                self.add_error("weight_lb", "Enter a weight between 55 and 770 pounds.")


class TreatmentsStepForm(StepForm):
    step = STEPS_BY_SLUG["treatments"]
    optional = frozenset({"last_injection_on"})
    intro = "Which of these have you tried for your heel pain, and did it help?"

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["treatments"].fields
        widgets = {"last_injection_on": DateInput()}

    def layout(self) -> Layout:
        rows = []
        for treatment in TREATMENTS:
            rows.append(InlineRadios(treatment.field))
            if treatment.field == "tried_injection":
                # Asked for any "tried" answer, whether or not it helped.
                rows.append(
                    Div(
                        Field("last_injection_on", css_class="w-auto"),
                        css_class="conditional ms-4",
                        data_reveal_for="tried_injection",
                        data_value_not=TreatmentOutcome.NOT_TRIED,
                    )
                )
        return Layout(*rows)

    def clean(self):
        data = super().clean()
        tried = data.get("tried_injection") not in (None, "", TreatmentOutcome.NOT_TRIED)
        last = data.get("last_injection_on")
        if not tried:
            data["last_injection_on"] = None
        elif last is None:
            self.needs_answer("last_injection_on", "Give the date of your last injection.")
        elif last < self.patient.date_of_birth:
            self.add_error("last_injection_on", "This date is before your date of birth.")
        return data


class ScreeningStepForm(StepForm):
    step = STEPS_BY_SLUG["screening"]
    optional = frozenset(f"{q.field}_details" for q in SCREENING)
    intro = (
        "These questions keep dry needling safe for you. A “yes” does not rule it out: your "
        "practitioner will talk it through with you at your assessment."
    )

    class Meta(StepForm.Meta):
        fields = STEPS_BY_SLUG["screening"].fields
        widgets = {f"{q.field}_details": forms.Textarea(attrs={"rows": 2}) for q in SCREENING}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in SCREENING:
            details = self.fields[f"{question.field}_details"]
            details.label = f"If yes, please give details ({question.short.lower()})"

    def layout(self) -> Layout:
        return Layout(
            *(
                Div(
                    InlineRadios(q.field),
                    reveal(q.field, "True", f"{q.field}_details"),
                    css_class="border-bottom mb-3",
                )
                for q in SCREENING
            )
        )

    def clean(self):
        data = super().clean()
        for question in SCREENING:
            details = f"{question.field}_details"
            if data.get(question.field):
                self.needs_answer(details, "You answered yes: please tell us more.")
            elif details in data:
                data[details] = ""
        return data


STEP_FORMS: dict[str, type[StepForm]] = {
    form.step.slug: form
    for form in (
        ContactStepForm,
        ComplaintStepForm,
        SymptomsStepForm,
        PainStepForm,
        RiskStepForm,
        TreatmentsStepForm,
        ScreeningStepForm,
    )
}


def stored_answers_form(step_slug: str, intake: Intake) -> StepForm:
    """The step's form bound to the answers saved in `intake`, to validate them again (on
    submission, everything is checked once more on the server)."""
    form_class = STEP_FORMS[step_slug]
    unbound = form_class(instance=intake, patient=intake.patient)
    data = {bound.html_name: bound.value() for bound in unbound if bound.value() is not None}
    return form_class(data=data, instance=intake, patient=intake.patient, complete=True)


def incomplete_steps(intake: Intake) -> list[str]:
    """The steps whose saved answers would not pass as complete, in order."""
    return [slug for slug in STEP_FORMS if not stored_answers_form(slug, intake).is_valid()]


class IntakeListFilterForm(forms.Form):
    SHOW_CHOICES = (
        ("review", "Waiting for review"),
        ("submitted", "Submitted"),
        ("draft", "In progress"),
        ("missing", "Missing"),
        ("all", "Everyone"),
    )
    location = ShortListField(
        queryset=Location.objects.none(), to_field_name="slug", required=False
    )
    show = forms.ChoiceField(choices=SHOW_CHOICES, required=False)
    q = forms.CharField(label="Name", required=False, max_length=100)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
