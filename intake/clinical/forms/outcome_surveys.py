"""The outcome survey forms: the same questions whether the patient answers from an email link,
from their own page or on the counter tablet. They validate and convert; when a survey may be
answered, and corrections, are the services' business."""

from __future__ import annotations

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Field, Layout
from django import forms

from intake.clinical.models import SURVEY_QUESTIONS, OutcomeSurvey, SurveyKind
from intake.form_fields import form_helper, radio_formfield, reveal

SCALE_ERROR = "Choose a number from 0 to 10."
SCALE_HELP = {
    "pain_first_steps": "0 = no pain, 10 = the worst pain you can imagine.",
    "pain_average": "0 = no pain, 10 = the worst pain you can imagine.",
    "recommend": "0 = not at all likely, 10 = extremely likely.",
}
# Questions a patient may leave empty; every other question of the kind needs an answer.
OPTIONAL = {"after_effects", "comments", "worrying_details"}


class ScaleField(forms.TypedChoiceField):
    """A 0–10 scale as eleven radio buttons (large targets on the tablet); anything else,
    typed into a crafted request, is refused with a clear message."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        kwargs.pop("min_value", None)
        kwargs.pop("max_value", None)
        super().__init__(
            choices=[(str(n), str(n)) for n in range(11)],
            coerce=int,
            empty_value=None,
            error_messages={"invalid_choice": SCALE_ERROR, "required": SCALE_ERROR},
            **kwargs,
        )


def _formfield(model_field, **kwargs):
    if model_field.name in SCALE_HELP:
        return ScaleField(label=model_field.verbose_name, help_text=SCALE_HELP[model_field.name])
    return radio_formfield(model_field, **kwargs)


WIDGETS = {
    "after_effects": forms.Textarea(attrs={"rows": 2}),
    "worrying_details": forms.Textarea(attrs={"rows": 3}),
    "comments": forms.Textarea(attrs={"rows": 3}),
}


class OutcomeSurveyForm(forms.ModelForm):
    """The questions of one kind of survey; make one with `survey_form(kind, ...)`."""

    kind: str = ""

    class Meta:
        model = OutcomeSurvey
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = name not in OPTIONAL
        if "after_effects" in self.fields:
            self.fields[
                "after_effects"
            ].help_text = "Soreness, bruising, tiredness... or leave empty if none."
        self.helper = form_helper(self._layout())

    def _layout(self) -> Layout:
        parts = []
        for name in self.fields:
            if name == "worrying_details":
                continue
            if isinstance(self.fields[name], ScaleField):
                parts.append(InlineRadios(name, css_class="checkin-scale"))
            elif name == "worrying":
                parts.append(Field(name))
                parts.append(reveal("worrying", "True", Field("worrying_details")))
            else:
                parts.append(Field(name))
        return Layout(*parts)

    def clean(self):
        data = super().clean()
        if data.get("worrying") and not (data.get("worrying_details") or "").strip():
            self.add_error(
                "worrying_details",
                "Tell us what is worrying you, so that your practitioner can help.",
            )
        return data

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields}


_classes: dict[str, type[OutcomeSurveyForm]] = {}


def survey_form(kind: str, *args, **kwargs) -> OutcomeSurveyForm:
    """The form of one kind of survey, with the questions `SURVEY_QUESTIONS` lists."""
    if kind not in _classes:
        _classes[kind] = forms.modelform_factory(
            OutcomeSurvey,
            form=OutcomeSurveyForm,
            fields=SURVEY_QUESTIONS[SurveyKind(kind)],
            formfield_callback=_formfield,
            widgets=WIDGETS,
        )
        _classes[kind].kind = kind
    return _classes[kind](*args, **kwargs)
