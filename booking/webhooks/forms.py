"""The endpoint form: it reads and checks what the manager typed (the address must be one the
worker may post to); the rules of the workflow live in `booking.webhooks.services`."""

from __future__ import annotations

from django import forms

from booking.webhooks import transport
from booking.webhooks.models import Event
from clinic.models import Location


class EndpointForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the receiving system is, e.g. “Referral portal”.",
    )
    url = forms.URLField(
        label="Address (URL)",
        max_length=500,
        assume_scheme="https",
        help_text="Deliveries are posted here. It must start with https://.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    locations = forms.ModelMultipleChoiceField(
        label="Locations",
        queryset=Location.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None chosen: every location.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locations"].queryset = Location.objects.filter(is_active=True).order_by("name")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            transport.parse(url)
        except transport.RefusedAddress as refused:
            raise forms.ValidationError(str(refused)) from refused
        return url
