"""The forms of the questionnaire's last page: the patient's consent, signed by typing their
name, and the staff's confirmation that they read the answers back to the patient (the
questionnaire's steps are in `intake.questionnaire.forms`)."""

from __future__ import annotations

from django import forms

from clinic.models import Patient
from intake.form_fields import form_helper
from intake.questionnaire.models import ConsentVersion, signature_matches


class ConsentForm(forms.Form):
    """The patient agrees to the current version of each consent document and signs by
    typing their full name, which must match the one on file."""

    consent_versions = forms.CharField(widget=forms.HiddenInput, required=False)
    signed_name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )

    def __init__(self, *args, patient: Patient, versions: list[ConsentVersion], **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.versions = versions
        self.fields["consent_versions"].initial = ",".join(str(v.pk) for v in versions)
        self.fields["signed_name"].help_text = (
            f"As on your record: {patient.full_name}. Capitals, accents, spaces, hyphens and "
            "apostrophes do not matter."
        )
        for version in versions:
            self.fields[f"agree_{version.document.kind}"] = forms.BooleanField(
                label=f"I have read and agree to the {version.document.title.lower()} "
                f"(version {version.number}).",
                error_messages={"required": "Tick this box to agree, or ask us first."},
            )
        self.helper = form_helper()

    def clean_consent_versions(self) -> list[int]:
        raw = self.cleaned_data["consent_versions"]
        try:
            return [int(part) for part in raw.split(",") if part]
        except ValueError:
            raise forms.ValidationError("The consent form was damaged; reload the page.") from None

    def clean_signed_name(self) -> str:
        typed = self.cleaned_data["signed_name"]
        if not signature_matches(typed, self.patient):
            raise forms.ValidationError(
                f"This does not match the name on file ({self.patient.full_name}). Type your "
                "full name as it appears there."
            )
        return typed.strip()


class StaffSubmitForm(forms.Form):
    read_back_to_patient = forms.BooleanField(
        label="I read these answers back to the patient and they confirmed them.",
        error_messages={"required": "Confirm that the patient agreed with these answers."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
