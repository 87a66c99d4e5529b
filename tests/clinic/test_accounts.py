"""Patient sign-up, logging in by email, logging out and resetting a password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from clinic.models import Patient, Role, User
from tests.factories import PASSWORD, PatientFactory, UserFactory, confirm_sign_up

pytestmark = pytest.mark.django_db

SIGNUP = reverse("clinic:signup")


def _signup_data(**overrides) -> dict:
    data = {
        "first_name": "Jordan",
        "last_name": "Miles",
        "email": "Jordan.Miles@Example.org",
        "date_of_birth": "1979-04-12",
        "phone": "(416) 555-0190",
        "password1": "heel-pain-2026!",
        "password2": "heel-pain-2026!",
    }
    return data | overrides


def test_a_patient_signs_up_confirms_the_email_and_lands_on_their_home(client):
    sent = client.post(SIGNUP, _signup_data())
    assert "Check your email" in sent.content.decode()
    assert User.objects.count() == 0  # not before the address is confirmed
    [email] = mail.outbox
    assert email.to == ["jordan.miles@example.org"]

    response = confirm_sign_up(client, "heel-pain-2026!")

    assert response.redirect_chain[-1][0] == reverse("clinic:patient_home")
    user = User.objects.get()
    assert user.email == "jordan.miles@example.org"
    assert user.role == Role.PATIENT
    patient = Patient.objects.get(user=user)
    assert (patient.first_name, patient.last_name) == ("Jordan", "Miles")
    assert patient.date_of_birth == dt.date(1979, 4, 12)
    assert "Hello, Jordan" in response.content.decode()


def test_the_sign_up_page_labels_every_input(client):
    html = client.get(SIGNUP).content.decode()
    inputs = re.findall(r'<input[^>]*id="(id_[a-z0-9_]+)"', html)
    assert inputs, "the form has inputs"
    for input_id in inputs:
        assert f'for="{input_id}"' in html, f"{input_id} has no label"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "Enter a valid email address"),
        # PostgreSQL cannot store or compare text with a NUL: refused before any lookup.
        ("email", "jordan\x00@example.org", "Null characters are not allowed"),
        ("password1", "password123", "too common"),
        ("phone", "555-01", "Enter a phone number"),
        (
            "date_of_birth",
            (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
            "in the future",
        ),
        ("date_of_birth", "12/04/1979", "Enter a valid date"),
    ],
)
def test_sign_up_refuses_bad_input_on_the_field_and_saves_nothing(client, field, value, message):
    UserFactory(email="jordan@example.org")
    data = _signup_data(**{field: value})
    if field == "password1":
        data["password2"] = value

    response = client.post(SIGNUP, data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    error_field = "password2" if field == "password1" else field  # Django reports it there
    assert error_field in errors, errors
    assert message in " ".join(errors[error_field])
    assert User.objects.count() == 1  # only the one that existed
    assert Patient.objects.count() == 0
    assert mail.outbox == []


def _input(html: str, name: str) -> str:
    [tag] = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    return tag


def test_a_mistake_elsewhere_keeps_both_passwords_on_the_form(client):
    html = client.post(SIGNUP, _signup_data(phone="12")).content.decode()
    assert "Enter a phone number" in html
    assert 'value="heel-pain-2026!"' in _input(html, "password1")
    assert 'value="heel-pain-2026!"' in _input(html, "password2")


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_sign_up_page_is_never_stored_as_it_may_carry_the_passwords(client, method):
    response = getattr(client, method)(SIGNUP, _signup_data(phone="12") if method == "post" else {})
    assert "no-store" in response["Cache-Control"]


def test_the_first_field_takes_the_focus_on_a_new_form_not_the_email(client):
    html = client.get(SIGNUP).content.decode()
    assert "autofocus" in _input(html, "first_name")
    assert [name for name in re.findall(r'<input[^>]*name="(\w+)"[^>]*autofocus', html)] == [
        "first_name"
    ]


@pytest.mark.parametrize(
    ("overrides", "first_wrong"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "12", "date_of_birth": "12/04/1979"}, "date_of_birth"),
        ({"last_name": "", "phone": "12"}, "last_name"),
        ({"password2": "not-the-same-1"}, "password2"),
    ],
)
def test_after_a_mistake_the_first_wrong_field_takes_the_focus(client, overrides, first_wrong):
    html = client.post(SIGNUP, _signup_data(**overrides)).content.decode()
    focused = re.findall(r'<input[^>]*name="(\w+)"[^>]*autofocus', html)
    assert focused == [first_wrong]
    assert "data-first-error" in _input(html, first_wrong)  # site.js leaves the focus there


def test_a_user_logs_in_with_their_email_in_any_case(client):
    UserFactory(email="jo@example.org", role=Role.PATIENT)
    PatientFactory(user=User.objects.get())
    response = client.post(
        reverse("login"), {"username": "JO@Example.org", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("clinic:patient_home")


def test_a_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="ava@example.org")
    response = client.post(reverse("login"), {"username": "ava@example.org", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logging_out_ends_the_session(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("logout")).status_code == 405  # only by POST, so links cannot log out
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == resolve_url(settings.LOGOUT_REDIRECT_URL)
    assert "_auth_user_id" not in client.session
    home = client.get(reverse("clinic:patient_home"))
    assert home.status_code == 302
    assert home.url == reverse("login") + "?next=" + reverse("clinic:patient_home")


def test_password_reset_emails_a_working_link(client, patient):
    response = client.post(reverse("password_reset"), {"email": patient.user.email.upper()})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-heel-pass-7", "new_password2": "a-new-heel-pass-7"},
    )
    patient.user.refresh_from_db()
    assert patient.user.check_password("a-new-heel-pass-7")


def test_password_reset_says_the_same_for_an_unknown_email(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []
