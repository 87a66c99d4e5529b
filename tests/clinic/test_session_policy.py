"""Sessions end on the server: staff after 30 minutes idle or 12 hours in all."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _age_session(client, *, idle_minutes=0, started_hours_ago=0):
    session = client.session
    now = int(timezone.now().timestamp())
    session["last_seen"] = now - idle_minutes * 60
    session["auth_started"] = now - started_hours_ago * 3600
    session.save()


def _assert_sent_to_log_in(client, response, *, back_to: str) -> None:
    """The session is over, and `response` sends the browser to log in, then to `back_to`."""
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=" + quote(back_to, safe="")
    assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_after_30_minutes_idle(login, front_desk):
    client = login(front_desk)
    client.get(reverse("clinic:front_desk_home"))
    _age_session(client, idle_minutes=31)
    response = client.get(reverse("clinic:front_desk_home"))
    _assert_sent_to_log_in(client, response, back_to="/desk/")


def test_a_staff_session_ends_after_12_hours_even_when_busy(login, front_desk):
    client = login(front_desk)
    _age_session(client, idle_minutes=1, started_hours_ago=11)
    assert client.get(reverse("clinic:front_desk_home")).status_code == 200
    _age_session(client, idle_minutes=1, started_hours_ago=13)
    response = client.get(reverse("clinic:front_desk_home"))
    _assert_sent_to_log_in(client, response, back_to="/desk/")


def test_a_patient_may_be_idle_longer(login, patient):
    client = login(patient.user)
    _age_session(client, idle_minutes=45)
    assert client.get(reverse("clinic:patient_home")).status_code == 200
    _age_session(client, idle_minutes=121)
    response = client.get(reverse("clinic:patient_home"))
    _assert_sent_to_log_in(client, response, back_to="/me/")


def test_an_expired_session_on_a_form_returns_to_that_form_after_logging_in(login, patient):
    client = login(patient.user)
    _age_session(client, idle_minutes=200)
    response = client.post(reverse("clinic:patient_details"), {"phone": "416-555-0111"})
    _assert_sent_to_log_in(client, response, back_to="/me/details/")
    patient.refresh_from_db()
    assert patient.phone != "416-555-0111"  # nothing was saved by the logged-out post


def test_logging_out_ends_the_session_on_the_server(login, patient):
    client = login(patient.user)
    key = client.session.session_key
    client.post(reverse("logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=key).exists()
    assert "_auth_user_id" not in client.session


def test_a_form_whose_security_token_is_gone_says_it_expired_and_how_to_go_on(patient):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    response = client.post(reverse("clinic:patient_details"), {"phone": "416-555-0111"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page and "answers you had already saved are kept" in page
