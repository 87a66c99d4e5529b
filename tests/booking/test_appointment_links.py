"""The manage-this-appointment link in emails: a signed, expiring token that lets a patient see,
cancel or move that one appointment within the location's policy without a password, and
nothing else. A tampered, expired or borrowed link gets a clear page with the phone number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from booking.forms import slot_choice_value
from booking.models import Notification, Status
from booking.notifications import links
from booking.notifications.views import link_cancel, link_ics, link_manage, link_reschedule
from clinic.models import AccessLog
from tests.booking.conftest import next_weekday
from tests.factories import LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _url(name: str, appointment, token: str | None = None) -> str:
    return reverse(name, args=[appointment.pk, token or links.make_token(appointment)])


def test_a_valid_link_shows_the_appointment_without_a_login(client, book, patient):
    appointment = book(patient)
    response = client.get(_url("booking:link_manage", appointment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "10:00 AM E" in html and appointment.location.phone in html
    assert "Move to another time" in html and "Cancel" in html
    assert AccessLog.objects.filter(patient=patient, record_id=str(appointment.pk)).exists()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_link_pages_are_the_only_public_ones_and_say_so():
    for view in (link_manage, link_cancel, link_reschedule, link_ics):
        assert view.login_required is False


def test_a_link_does_not_log_anyone_in(client, book, patient):
    appointment = book(patient)
    client.get(_url("booking:link_manage", appointment))
    response = client.get(reverse("booking:my_appointments"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert (
        client.get(reverse("booking:appointment_detail", args=[appointment.pk])).status_code == 302
    )


def test_a_tampered_link_gets_a_clear_page_with_the_phone(client, book, patient):
    appointment = book(patient)
    token = links.make_token(appointment)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = client.get(_url("booking:link_manage", appointment, tampered))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link does not work" in html and appointment.location.phone in html


@pytest.mark.parametrize("token", ["nonsense", "a:b:c", "x" * 300])
def test_garbage_in_the_link_is_never_a_server_error(client, book, patient, token):
    appointment = book(patient)
    for name in ("booking:link_manage", "booking:link_cancel", "booking:link_ics"):
        assert client.get(_url(name, appointment, token)).status_code == 400


def test_an_expired_link_says_so_with_that_locations_phone(client, book, patient):
    appointment = book(patient)
    LocationFactory(name="Rockville", slug="rockville", phone="301-555-0199")
    # Made long ago: links last until the day after the appointment, at most 90 days.
    token = links.make_token(appointment, now=timezone.now() - dt.timedelta(days=120))
    response = client.get(_url("booking:link_manage", appointment, token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html and appointment.location.phone in html
    assert "301-555-0199" not in html


def test_a_link_stops_working_the_day_after_the_appointment(book, patient):
    appointment = book(patient)
    token = links.make_token(appointment)
    after = appointment.ends_at + dt.timedelta(days=1, minutes=1)
    assert links.read_token(token, appointment_id=appointment.pk) == appointment.pk
    with pytest.raises(links.LinkExpired) as expired:
        links.read_token(token, appointment_id=appointment.pk, now=after)
    assert expired.value.appointment_id == appointment.pk


def test_a_link_for_another_appointment_opens_nothing(client, book, patient, clinic):
    mine = book(patient)
    theirs = book(PatientFactory(), next_weekday(clinic.location, 2, 10))
    token = links.make_token(mine)
    for name in ("booking:link_manage", "booking:link_cancel", "booking:link_reschedule"):
        response = client.get(_url(name, theirs, token))
        assert response.status_code == 400
        assert "another appointment" in response.content.decode()
    response = client.post(_url("booking:link_cancel", theirs, token), {"reason": "Not mine"})
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.status == Status.CONFIRMED


def test_a_token_signed_for_another_purpose_is_refused(book, patient):
    appointment = book(patient)
    token = signing.dumps({"a": appointment.pk, "p": "unsubscribe", "e": 2**40}, salt=links.SALT)
    with pytest.raises(links.LinkRefused, match="not valid for this page"):
        links.read_token(token, appointment_id=appointment.pk)


def test_a_patient_cancels_from_the_link(client, book, patient):
    appointment = book(patient)
    url = _url("booking:link_cancel", appointment)
    assert "Why are you cancelling" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Feeling much better"})
    assert response.url == _url("booking:link_manage", appointment, url.split("/")[-3])
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == (Status.CANCELLED, "patient")
    assert appointment.events.last().actor == patient.user
    assert appointment.notifications.filter(kind=Notification.Kind.CANCELLED).exists()
    page = client.get(response.url).content.decode()
    assert "Your appointment is cancelled" in page and "Move to another time" not in page


def test_a_cancellation_needs_a_reason(client, book, patient):
    appointment = book(patient)
    response = client.post(_url("booking:link_cancel", appointment), {"reason": ""})
    assert response.status_code == 200
    assert "Please give a reason" in response.content.decode()


def _five_hours_ahead(appointment):
    """The appointment set five hours ahead (inside the 24-hour notice), bypassing the booking
    rules (at the suite's instant, that may be a night or a Sunday)."""
    soon = timezone.now() + dt.timedelta(hours=5)
    type(appointment).objects.filter(pk=appointment.pk).update(
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=1),
        blocks_until=soon + dt.timedelta(minutes=65),
    )
    return appointment


def test_inside_the_notice_period_the_link_says_to_phone(client, book, patient, clinic):
    appointment = _five_hours_ahead(book(patient))
    page = client.get(_url("booking:link_manage", appointment)).content.decode()
    assert "please phone" in page and clinic.location.phone in page
    client.post(_url("booking:link_cancel", appointment), {"reason": "Busy"})
    response = client.get(_url("booking:link_reschedule", appointment))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_inside_the_notice_period_a_request_is_withdrawn_from_the_link(
    client, book, patient, clinic
):
    """Not yet confirmed: the link offers to withdraw it (never late), and still not to move it."""
    request = _five_hours_ahead(book(patient, status=Status.REQUESTED))
    page = client.get(_url("booking:link_manage", request)).content.decode()
    assert f'href="{_url("booking:link_cancel", request)}">Withdraw the request' in page
    assert client.get(_url("booking:link_reschedule", request)).status_code == 302
    client.post(_url("booking:link_cancel", request), {"reason": "Found another time"})
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and not request.late_cancellation


def test_a_patient_moves_the_appointment_from_the_link(client, book, patient, clinic):
    appointment = book(patient)
    url = _url("booking:link_reschedule", appointment)
    page = client.get(url)
    assert page.status_code == 200 and "Choose a new time" in page.content.decode()
    new_start = next_weekday(clinic.location, 3, 14)
    response = client.post(
        url,
        {
            "slot": slot_choice_value(clinic.practitioner.pk, new_start),
            "version": appointment.version,
            "confirm": "1",
        },
    )
    assert response.status_code == 302 and "/move/" not in response.url
    appointment.refresh_from_db()
    assert appointment.starts_at == new_start
    assert appointment.notifications.filter(kind=Notification.Kind.RESCHEDULED).exists()


def test_a_move_from_an_out_of_date_page_is_refused(client, book, patient, clinic):
    appointment = book(patient)
    response = client.post(
        _url("booking:link_reschedule", appointment),
        {
            "slot": slot_choice_value(clinic.practitioner.pk, next_weekday(clinic.location, 3, 14)),
            "version": appointment.version + 5,
            "confirm": "1",
        },
        follow=True,
    )
    assert "Someone else changed this appointment" in response.content.decode()
    old_start = appointment.starts_at
    appointment.refresh_from_db()
    assert appointment.starts_at == old_start


def test_the_link_offers_the_appointment_as_a_calendar_file(client, book, patient):
    appointment = book(patient)
    response = client.get(_url("booking:link_ics", appointment))
    assert response.status_code == 200
    assert f"UID:appointment-{appointment.pk}@".encode() in response.content


@pytest.mark.parametrize(
    "name",
    ["booking:link_manage", "booking:link_ics", "booking:link_cancel", "booking:link_reschedule"],
)
def test_every_page_a_link_opens_is_in_the_access_log(client, book, patient, name):
    appointment = book(patient)
    before = set(AccessLog.objects.values_list("pk", flat=True))
    assert client.get(_url(name, appointment)).status_code == 200
    [row] = AccessLog.objects.exclude(pk__in=before)
    assert (row.actor, row.patient, row.record_id, row.action) == (
        patient.user,
        patient,
        str(appointment.pk),
        "view",
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("booking:link_manage", "post"),
        ("booking:link_ics", "post"),
        ("booking:link_cancel", "put"),
        ("booking:link_reschedule", "delete"),
    ],
)
def test_link_pages_refuse_the_wrong_method(client, book, patient, name, method):
    appointment = book(patient)
    assert getattr(client, method)(_url(name, appointment)).status_code == 405


def test_a_link_to_an_appointment_that_has_passed_says_so(client, book, patient):
    appointment = book(patient)
    gone = timezone.now() - dt.timedelta(hours=3)
    type(appointment).objects.filter(pk=appointment.pk).update(
        starts_at=gone,
        ends_at=gone + dt.timedelta(hours=1),
        blocks_until=gone + dt.timedelta(hours=1),
    )
    page = client.get(_url("booking:link_manage", appointment)).content.decode()
    assert "This appointment has passed" in page and "Move to another time" not in page


def test_links_point_at_the_configured_site_or_the_production_host(settings, book, patient):
    appointment = book(patient)
    settings.SITE_URL = "https://booking.example.org/"
    assert links.manage_url(appointment).startswith("https://booking.example.org/appointments/")
    settings.SITE_URL = ""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [".example.org", "clinic.example.org"]
    assert links.site_url() == "https://clinic.example.org"
