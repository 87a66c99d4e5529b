"""Building blocks of intake's forms: yes/no radio pairs, model fields as radios and
checkboxes, crispy helpers, and questions shown only for some answers."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from crispy_forms.utils import TEMPLATE_PACK
from django import forms
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.text import capfirst

YES_NO = (("True", "Yes"), ("False", "No"))


class YesNoField(forms.TypedChoiceField):
    """A yes/no question answered with two radio buttons (a fieldset with a legend)."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(
            choices=YES_NO, coerce=lambda value: value == "True", empty_value=None, **kwargs
        )


def radio_formfield(model_field: models.Field, **kwargs) -> forms.Field | None:
    """Yes/no questions as radio pairs, choices as radio lists, lists of choices as
    checkboxes, and everything else as Django makes it."""
    common = {"label": capfirst(model_field.verbose_name), "help_text": model_field.help_text}
    if isinstance(model_field, models.BooleanField) and model_field.null:
        return YesNoField(**common)
    if isinstance(model_field, ArrayField) and model_field.base_field.choices:
        return forms.MultipleChoiceField(
            choices=model_field.base_field.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if model_field.choices and not isinstance(model_field, models.ForeignKey):
        return forms.TypedChoiceField(
            choices=model_field.choices,
            coerce=model_field.to_python,
            empty_value=None if model_field.null else "",
            widget=forms.RadioSelect,
            **common,
        )
    return model_field.formfield(**kwargs)


class ScoreScale(Field):
    """A 0–10 question as one row of eleven radio buttons (it fits a phone), with what 0 and 10
    mean under it: in view, and read out with the question (the fieldset's aria-describedby)."""

    template = "intake/_score_scale.html"

    def __init__(self, field: str, *, low: str, high: str, **kwargs):
        super().__init__(field, **kwargs)
        self.ends = {"scale_low": low, "scale_high": high}

    def render(self, form, context, template_pack=TEMPLATE_PACK, extra_context=None, **kwargs):
        extra_context = {**(extra_context or {}), **self.ends}
        return super().render(form, context, template_pack, extra_context=extra_context, **kwargs)


def reveal(controller: str, value: str, *fields) -> Div:
    """Fields that apply only for one answer of `controller`. All are in the page, so it
    works without JavaScript; static/js/intake.js hides them until that answer is chosen."""
    return Div(*fields, css_class="conditional ms-4", data_reveal_for=controller, data_value=value)


def form_helper(layout: Layout | None = None) -> FormHelper:
    """A crispy helper for a form whose <form> tag and CSRF token the template writes."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout is not None:
        helper.layout = layout
    return helper
