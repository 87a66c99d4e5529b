"""Forms of the clinic app: they validate and convert input; the rules live in models and services."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, PasswordChangeForm
from django.db.models import BooleanField, ExpressionWrapper, Q

from clinic.dates import validate_in_calendar
from clinic.models import AccessLog, Patient, Role, User
from clinic.validators import validate_born_after_1900, validate_not_in_future, validate_phone


class ShortListField(forms.ModelChoiceField):
    """A choice among a few rows (the clinic's locations, practitioners, rooms, services, staff):
    the list is read with one ordinary query. Django's own field reads it through a server-side
    cursor, made for long lists: three round trips and a copy of the rows held for the cursor,
    which cost the results dashboard more than half of its filter form's time."""

    class iterator(forms.models.ModelChoiceIterator):  # noqa: N801 (Django's attribute name)
        def __iter__(self):
            if self.field.empty_label is not None:
                yield ("", self.field.empty_label)
            for row in self.queryset:
                yield self.choice(row)


class DateInput(forms.DateInput):
    """The browser's own date picker; the value travels as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CalendarDateField(forms.DateField):
    """A date within the clinic's calendar (1900–2100): year 1 or 9999 is a field error here,
    not an overflow in the page's arithmetic."""

    default_validators = [validate_in_calendar]


class PatientSignUpForm(BaseUserCreationForm):
    """A patient creates their own account: the login and the patient record in one go."""

    date_of_birth = forms.DateField(
        widget=DateInput(),
        validators=[validate_born_after_1900, validate_not_in_future],
        input_formats=["%Y-%m-%d"],
        help_text="We use it to tell apart patients with the same name.",
    )
    phone = forms.CharField(
        max_length=30,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email")
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    field_order = [
        "first_name",
        "last_name",
        "email",
        "date_of_birth",
        "phone",
        "password1",
        "password2",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("password1", "password2"):
            self.fields[name].widget.attrs["autocomplete"] = "new-password"
            # A mistake elsewhere (a phone number, say) must not cost the patient both
            # passwords. Safe to send back: the page is served over HTTPS and never stored
            # (views.signup is never_cache).
            self.fields[name].widget.render_value = True
        # BaseUserCreationForm offers "usable password" choices meant for the admin only.
        self.fields.pop("usable_password", None)
        # BaseUserCreationForm focuses the login field (Email), third on this page: the
        # first field takes focus instead, or after a mistake the first field that is wrong.
        for field in self.fields.values():
            field.widget.attrs.pop("autofocus", None)
        self.fields[self.field_order[0]].widget.attrs["autofocus"] = True

    def full_clean(self) -> None:
        super().full_clean()
        wrong = [name for name in self.fields if name in self.errors]
        if wrong:
            self.fields[self.field_order[0]].widget.attrs.pop("autofocus", None)
            attrs = self.fields[wrong[0]].widget.attrs
            # autofocus works without JavaScript; data-first-error tells site.js to leave
            # the focus here rather than move it to the error summary.
            attrs["autofocus"] = True
            attrs["data-first-error"] = True

    def clean_email(self) -> str:
        # Whether the address has an account is never said here (sign-up would tell anyone
        # who asks): its owner is told by email instead (views.signup).
        return self.cleaned_data["email"].strip().lower()

    def validate_unique(self) -> None:
        """Not the model's unique check either, for the same reason; the form saves nothing
        itself (services.request_sign_up)."""

    def patient_details(self) -> dict:
        return {
            "date_of_birth": self.cleaned_data["date_of_birth"],
            "phone": self.cleaned_data["phone"].strip(),
        }


class SignUpConfirmForm(forms.Form):
    """Confirming a sign-up from the emailed link takes the password chosen at sign-up: the
    owner of an address cannot be handed an account someone else chose the password of."""

    password = forms.CharField(
        label="The password you chose",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, sign_up, **kwargs):
        super().__init__(*args, **kwargs)
        self.sign_up = sign_up

    def clean_password(self) -> str:
        from django.contrib.auth.hashers import check_password

        password = self.cleaned_data["password"]
        if not check_password(password, self.sign_up.password):
            raise forms.ValidationError("That is not the password chosen at sign-up.")
        return password


class PatientDetailsForm(forms.ModelForm):
    """A patient's own contact details and emergency contact (the email is their login)."""

    class Meta:
        model = Patient
        fields = (
            "phone",
            "emergency_contact_name",
            "emergency_contact_phone",
            "preferred_location",
        )


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        error_messages={"required": "Type the code from your authenticator app."},
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


def _checked_password(request, password: str, *, wrong: forms.ValidationError) -> str:
    """`password` if it is the user's, checked as a login is (a wrong one counts as a failed
    login, django-axes); `wrong` if it is not, and a refusal while the account is locked."""
    from clinic.security import password_check

    outcome = password_check(request, password)
    if outcome == "locked":
        raise forms.ValidationError("Too many wrong passwords: try again later.")
    if outcome != "ok":
        raise wrong
    return password


class PasswordCheckForm(forms.Form):
    """Re-entering the password before a sensitive change. A wrong password counts as a
    failed login (django-axes), so it cannot be guessed through this form either."""

    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        return _checked_password(
            self.request,
            self.cleaned_data["password"],
            wrong=forms.ValidationError("That is not your password."),
        )


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with the old password checked as a login is: a wrong one
    counts as a failed login, so an unattended browser cannot be used to guess it."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        return _checked_password(
            self.request,
            self.cleaned_data["old_password"],
            wrong=forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ),
        )


class AccessLogFilterForm(forms.Form):
    """Filters of the access log (all optional)."""

    # Up to 100 record numbers, once a posted name has been turned into the ones it finds.
    patient = forms.CharField(
        label="Patient (name or record number)", required=False, max_length=1200
    )
    actor = ShortListField(
        queryset=User.objects.none(), required=False, label="Staff member", empty_label="Anyone"
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AccessLog.Action.choices], required=False
    )
    clinical = forms.BooleanField(
        label="Clinical records only",
        required=False,
        help_text="Notes and amendments, outcome surveys, the questionnaire and screening.",
    )
    date_from = CalendarDateField(
        label="From", required=False, widget=DateInput(), input_formats=["%Y-%m-%d"]
    )
    date_to = CalendarDateField(
        label="To", required=False, widget=DateInput(), input_formats=["%Y-%m-%d"]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff, then the API clients (what did the insurer's client read?).
        self.fields["actor"].queryset = User.objects.exclude(role=Role.PATIENT).order_by(
            ExpressionWrapper(Q(role=Role.API_CLIENT), output_field=BooleanField()),
            "last_name",
            "first_name",
        )
        self.fields["actor"].label_from_instance = lambda user: (
            user.log_name if user.is_api_client else f"{user.full_name} ({user.get_role_display()})"
        )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end of the period must be after its start.")
        return data
