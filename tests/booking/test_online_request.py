"""A patient requests an assessment online: location, a free time, a short hold, the request."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.forms import slot_choice_value
from booking.models import Appointment, AppointmentEvent, SlotHold, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_booking,
    a_colleague,
    a_course,
    a_placed_hold,
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)

pytestmark = pytest.mark.django_db


def _hold(client, clinic, start):
    return client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]),
        {"slot": slot_choice_value(clinic.practitioner.pk, start)},
    )


def test_the_slot_list_shows_free_times_in_the_locations_zone(login, patient, clinic):
    start = next_weekday(clinic.location, 1, 9)  # a Tuesday, 9:00 Toronto time
    response = login(patient.user).get(
        reverse("booking:request_slots", args=[clinic.location.slug]),
        {"from": start.astimezone(clinic.location.zone).date().isoformat()},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert slot_choice_value(clinic.practitioner.pk, start) in html
    assert "9:00 AM" in html and "America/Toronto" in html


def test_the_slot_search_runs_a_fixed_number_of_queries(
    login, patient, clinic, django_assert_max_num_queries
):
    client = login(patient.user)
    url = reverse("booking:request_slots", args=[clinic.location.slug])
    client.get(url)  # warm up sessions and the like
    with django_assert_max_num_queries(16):
        client.get(url)
    for n in range(20):  # many more appointments change nothing
        a_booking(clinic, next_weekday(clinic.location, n % 5, 9 + (n // 5) * 2))
    with django_assert_max_num_queries(16):
        client.get(url)


def test_a_patient_holds_a_time_then_requests_it(login, patient, clinic):
    client = login(patient.user)
    start = next_weekday(clinic.location, 2, 10)
    response = _hold(client, clinic, start)
    hold = SlotHold.objects.get()
    assert response.url == reverse("booking:request_confirm", args=[hold.pk])
    assert hold.expires_at > timezone.now()

    page = client.get(response.url).content.decode()
    assert "We keep this time for you until" in page

    response = client.post(response.url, {"note": "Left heel"})
    appointment = Appointment.objects.get()
    assert response.url == reverse("booking:appointment_detail", args=[appointment.pk])
    assert (appointment.status, appointment.starts_at, appointment.patient) == (
        Status.REQUESTED,
        start,
        patient,
    )
    assert appointment.patient_note == "Left heel"
    assert appointment.events.get().kind == AppointmentEvent.Kind.CREATED
    from clinic.models import AccessLog

    created = AccessLog.objects.get(action="create")
    assert (created.actor, created.patient, created.record_id) == (
        patient.user,
        patient,
        str(appointment.pk),
    )


def test_a_time_let_go_for_a_later_choice_is_not_requested_too(login, patient, clinic):
    """Two tabs, or the back button: the patient holds Wednesday, then Thursday, then confirms
    Wednesday's page. Wednesday was let go for Thursday; requesting it would make a second
    request, so it is refused and Thursday's stays to confirm."""
    client = login(patient.user)
    _hold(client, clinic, next_weekday(clinic.location, 2, 10))
    _hold(client, clinic, next_weekday(clinic.location, 3, 10))
    wednesday, thursday = SlotHold.objects.order_by("pk")
    response = client.post(reverse("booking:request_confirm", args=[wednesday.pk]), {"note": ""})
    assert "only your latest choice can be requested" in client.get(response.url).content.decode()
    assert not Appointment.objects.exists()
    client.post(reverse("booking:request_confirm", args=[thursday.pk]), {"note": ""})
    assert Appointment.objects.get().starts_at == thursday.starts_at


def test_a_double_submitted_request_makes_one_appointment(login, patient, clinic):
    client = login(patient.user)
    _hold(client, clinic, next_weekday(clinic.location, 2, 10))
    url = reverse("booking:request_confirm", args=[SlotHold.objects.get().pk])
    first = client.post(url, {"note": ""})
    second = client.post(url, {"note": ""})
    assert Appointment.objects.count() == 1
    assert second.url == first.url


def test_a_location_that_confirms_automatically_confirms_the_request(login, patient, clinic):
    clinic.location.confirms_requests_automatically = True
    clinic.location.save()
    client = login(patient.user)
    _hold(client, clinic, next_weekday(clinic.location, 2, 10))
    client.post(reverse("booking:request_confirm", args=[SlotHold.objects.get().pk]))
    appointment = Appointment.objects.get()
    assert appointment.status == Status.CONFIRMED
    assert [e.to_status for e in appointment.events.all()] == ["requested", "confirmed"]


def test_a_time_held_by_someone_else_is_not_offered(login, patient, other_patient, clinic):
    start = next_weekday(clinic.location, 2, 10)
    a_placed_hold(clinic, other_patient, start)
    # Two rooms, but one practitioner: the time is gone for everyone else.
    client = login(patient.user)
    day = start.astimezone(clinic.location.zone).date().isoformat()
    html = client.get(
        reverse("booking:request_slots", args=[clinic.location.slug]), {"from": day}
    ).content.decode()
    assert slot_choice_value(clinic.practitioner.pk, start) not in html
    response = _hold(client, clinic, start)
    assert response.url == reverse("booking:request_slots", args=[clinic.location.slug])
    assert SlotHold.objects.filter(patient=patient).count() == 0


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (lambda loc: timezone.now() + dt.timedelta(minutes=30), "too soon to book online"),
        (lambda loc: next_weekday(loc, 1, 10, weeks_ahead=12), "too far ahead"),
        (lambda loc: next_weekday(loc, 1, 7), "not working"),
        (lambda loc: next_weekday(loc, 6, 10), "not working"),  # Sunday: a day off
        (lambda loc: timezone.now() - dt.timedelta(days=1), "too soon"),  # in the past
        # A tampered form: 10:07 is no time the pages offer.
        (lambda loc: next_weekday(loc, 1, 10) + dt.timedelta(minutes=7), "times offered"),
    ],
)
def test_a_forbidden_time_is_refused_with_a_message(login, patient, clinic, start, message):
    client = login(patient.user)
    response = _hold(client, clinic, start(clinic.location))
    assert SlotHold.objects.count() == 0
    page = client.get(response.url).content.decode()
    assert message in page


def test_a_tampered_slot_is_refused_with_a_message(login, patient, clinic):
    client = login(patient.user)
    response = client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]), {"slot": "7|tomorrow"}
    )
    assert "could not be read" in client.get(response.url).content.decode()
    response = client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]),
        {"slot": f"999999|{next_weekday(clinic.location, 2, 10).isoformat()}"},
    )
    assert response.status_code == 404


def test_a_practitioner_the_page_does_not_offer_cannot_be_held(login, patient, clinic):
    # Not dry-needling trained: the request page never lists them; a tampered form may.
    untrained = a_colleague(clinic, certified=False)
    client = login(patient.user)
    response = client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]),
        {"slot": slot_choice_value(untrained.pk, next_weekday(clinic.location, 1, 10))},
    )
    assert "no dry-needling certification" in client.get(response.url).content.decode()
    assert not SlotHold.objects.exists()


def test_a_patient_cannot_confirm_someone_elses_hold(login, patient, other_patient, clinic):
    hold = a_placed_hold(clinic, other_patient, next_weekday(clinic.location, 2, 10))
    response = login(patient.user).post(reverse("booking:request_confirm", args=[hold.pk]))
    assert response.status_code == 404
    assert Appointment.objects.count() == 0


def test_a_waitlist_offers_hold_is_not_requested_as_a_new_appointment(login, patient, clinic):
    # An offered time is taken by accepting the offer (confirmed, the entry booked); requested
    # on the request page instead, it became a request while the offer stayed open.
    entry = a_waitlist_entry(clinic, patient)
    held = a_slot_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    offer = a_waitlist_offer(entry, held)
    client = login(patient.user)
    url = reverse("booking:request_confirm", args=[held.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": ""}).status_code == 404
    assert not Appointment.objects.exists()
    offer.refresh_from_db()
    assert offer.state == offer.State.OPEN


def test_holding_a_time_keeps_the_time_a_waitlist_offer_holds(
    login, patient, other_patient, clinic
):
    offered = next_weekday(clinic.location, 1, 10)
    offer = a_waitlist_offer(
        a_waitlist_entry(clinic, patient), a_slot_hold(clinic, patient, offered)
    )
    client = login(patient.user)
    _hold(client, clinic, next_weekday(clinic.location, 3, 10))
    offer.hold.refresh_from_db()
    assert offer.hold.is_live()
    with pytest.raises(services.SlotUnavailable):
        a_placed_hold(clinic, other_patient, offered)


def test_locations_without_dry_needling_cannot_be_requested(login, patient, other_location):
    response = login(patient.user).get(reverse("booking:request_slots", args=[other_location.slug]))
    assert response.status_code == 404


def test_nearest_first_puts_the_closer_location_first(login, patient, clinic, other_location):
    from tests.factories import certified_practitioner

    certified_practitioner(locations=[other_location])
    clinic.location.latitude, clinic.location.longitude = 43.7046, -79.3662
    clinic.location.save()
    other_location.latitude, other_location.longitude = 39.0496, -77.1197
    other_location.save()
    client = login(patient.user)
    html = client.get(reverse("booking:request_start"), {"near": "20852"}).content.decode()
    assert html.index("Rockville") < html.index("Leaside")
    html = client.get(reverse("booking:request_start"), {"near": "M4G 1A1"}).content.decode()
    assert html.index("Leaside") < html.index("Rockville")
    html = client.get(reverse("booking:request_start"), {"near": "Atlantis"}).content.decode()
    assert "do not recognise" in html


# --- Who a patient may choose ------------------------------------------------------------


def _practitioner_menu(html: str) -> str:
    start = html.index('id="practitioner-filter"')
    return html[start : html.index("</select>", start)]


def test_a_practitioner_whose_certification_expired_is_not_offered(login, patient, clinic):
    from tests.factories import certified_practitioner

    today = clinic.location.today()
    expired = certified_practitioner(locations=[clinic.location])
    expired.certifications.update(
        valid_from=today - dt.timedelta(days=400), valid_until=today - dt.timedelta(days=1)
    )
    never = certified_practitioner(locations=[clinic.location])
    never.certifications.all().delete()
    menu = _practitioner_menu(
        login(patient.user)
        .get(reverse("booking:request_slots", args=[clinic.location.slug]))
        .content.decode()
    )
    assert f'value="{clinic.practitioner.pk}"' in menu
    assert f'value="{expired.pk}"' not in menu
    assert f'value="{never.pk}"' not in menu


def test_a_certification_starting_within_the_booking_horizon_counts(login, patient, clinic):
    from tests.factories import certified_practitioner

    today = clinic.location.today()
    soon = certified_practitioner(locations=[clinic.location])
    soon.certifications.update(
        valid_from=today + dt.timedelta(days=10), valid_until=today + dt.timedelta(days=400)
    )
    menu = _practitioner_menu(
        login(patient.user)
        .get(reverse("booking:request_slots", args=[clinic.location.slug]))
        .content.decode()
    )
    assert f'value="{soon.pk}"' in menu


# --- After the request: the next step --------------------------------------------------------


def _requested_page(client, clinic) -> str:
    """Request a time as the logged-in patient and return the page the request lands on."""
    _hold(client, clinic, next_weekday(clinic.location, 2, 10))
    response = client.post(
        reverse("booking:request_confirm", args=[SlotHold.objects.get().pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "booking:appointment_detail", args=[Appointment.objects.get().pk]
    )
    return response.content.decode()


def test_after_requesting_the_page_leads_to_the_questionnaire(login, patient, clinic, intake):
    page = _requested_page(login(patient.user), clinic)
    assert "Next: tell us about your heel — about 15 minutes" in page
    assert f'<a class="btn btn-primary" href="{reverse("intake:my_intake")}">' in page
    assert "Fill in the questionnaire" in page
    assert "Questionnaire done" not in page


def test_after_requesting_the_page_says_what_happens_next(login, patient, clinic, intake):
    page = _requested_page(login(patient.user), clinic)
    assert "What happens next" in page
    assert f"Leaside confirms your time by email to {patient.email}" in page
    assert "Once it is confirmed, we email you a reminder 48 and 24 hours before." in page
    assert "please arrive 5 minutes early; the assessment takes about 60 minutes" in page


def test_a_submitted_questionnaire_shows_as_done(login, patient, clinic, intake):
    intake.ready(patient)
    page = _requested_page(login(patient.user), clinic)
    assert "Questionnaire done" in page
    assert "Next: tell us about your heel" not in page
    assert "btn btn-primary" not in page.split("Questionnaire done")[1].split("</section>")[0]


def test_a_questionnaire_in_progress_is_continued(login, patient, clinic, intake):
    intake.record(patient, draft_in_progress=True)
    page = _requested_page(login(patient.user), clinic)
    assert "Continue your questionnaire" in page


def test_an_automatically_confirmed_request_says_it_is_confirmed(login, patient, clinic, intake):
    clinic.location.confirms_requests_automatically = True
    clinic.location.save()
    page = _requested_page(login(patient.user), clinic)
    assert "Your time is confirmed" in page
    assert "We email you a reminder 48 and 24 hours before." in page
    assert "confirms your time by email" not in page


def test_a_patient_without_reminders_is_told_where_to_turn_them_on(login, patient, clinic, intake):
    from booking import notifications

    notifications.set_reminders(patient, wanted=False)
    page = _requested_page(login(patient.user), clinic)
    assert "You turned reminders off" in page
    assert reverse("booking:reminder_settings") in page
    assert "email you a reminder" not in page


def test_staff_and_needling_sessions_show_no_questionnaire_step(
    login, patient, clinic, intake, front_desk
):
    _requested_page(login(patient.user), clinic)
    url = reverse("booking:appointment_detail", args=[Appointment.objects.get().pk])
    assert "What happens next" not in login(front_desk).get(url).content.decode()
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 3, 10),
    )
    session = course.appointments.get()
    page = (
        login(patient.user)
        .get(reverse("booking:appointment_detail", args=[session.pk]))
        .content.decode()
    )
    assert "tell us about your heel" not in page and "What happens next" not in page


# --- The picker: one day at a time ----------------------------------------------------------


def _slots_page(client, clinic, **params) -> str:
    url = reverse("booking:request_slots", args=[clinic.location.slug])
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def _shown_times(html: str) -> list[dt.datetime]:
    """The starts of the time buttons of the chosen day (the fieldset), in order."""
    day = html[html.index("<fieldset") : html.index("</fieldset>")]
    values = re.findall(r'<button type="submit" name="slot" value="([^"]+)"', day)
    return [dt.datetime.fromisoformat(value.split("|")[1]) for value in values]


def _strip_html(html: str) -> str:
    start = html.index('aria-label="Days with free times"')
    return html[start : html.index("</nav>", start)]


def _strip(html: str) -> dict[dt.date, int]:
    """The day strip: each day's date and its number of free times."""
    nav = _strip_html(html)
    return {
        dt.date.fromisoformat(day): int(count)
        for day, count in re.findall(r"\?day=(\d{4}-\d\d-\d\d).*?(\d+) times?</span>", nav)
    }


def _chosen(html: str) -> dt.date:
    nav = _strip_html(html)
    return dt.date.fromisoformat(re.search(r'\?day=([\d-]+)[^"]*" aria-current="date"', nav)[1])


def test_the_picker_shows_only_the_first_free_days_times(login, patient, clinic):
    html = _slots_page(login(patient.user), clinic)
    strip = _strip(html)
    first_day = min(strip)
    times = _shown_times(html)
    assert _chosen(html) == first_day
    assert {t.astimezone(clinic.location.zone).date() for t in times} == {first_day}
    assert len(times) == strip[first_day] == len(set(times))
    # A week's worth of times is not on the page, only the day's (and "Next available").
    assert html.count('name="slot"') == len(times) + 1
    assert "Hold this time" not in html


def test_the_day_strip_lists_only_days_with_free_times_with_their_counts(
    login, patient, clinic, other_patient
):
    zone = clinic.location.zone
    full = next_weekday(clinic.location, 1, 9)  # a Tuesday, booked from 9 to 17
    an_appointment(clinic, other_patient, full, minutes=8 * 60)
    busy = next_weekday(clinic.location, 2, 9)  # a Wednesday with one assessment at 10
    a_booking(clinic, busy + dt.timedelta(hours=1))
    client = login(patient.user)
    strip = _strip(_slots_page(client, clinic))
    assert full.date() not in strip
    assert all(day.weekday() < 5 for day in strip)  # the practitioner works Monday to Friday
    free_wednesday = strip[busy.date() + dt.timedelta(days=7)]
    assert strip[busy.date()] < free_wednesday
    # Each day's count is the number of times that day shows.
    for day in (busy.date(), busy.date() + dt.timedelta(days=7)):
        times = _shown_times(_slots_page(client, clinic, day=day.isoformat()))
        assert [t.astimezone(zone).date() for t in times] == [day] * strip[day]


def test_a_day_in_the_address_chooses_that_days_times(login, patient, clinic):
    tuesday = next_weekday(clinic.location, 1, 9).date()
    html = _slots_page(login(patient.user), clinic, day=tuesday.isoformat(), practitioner="anyone")
    assert _chosen(html) == tuesday
    assert {t.astimezone(clinic.location.zone).date() for t in _shown_times(html)} == {tuesday}
    # The strip's links keep the other parameters of the address.
    assert f"?day={tuesday.isoformat()}&amp;practitioner=anyone" in html


def test_a_day_without_free_times_in_the_address_shows_the_next_free_day(login, patient, clinic):
    saturday = next_weekday(clinic.location, 5, 9).date()
    html = _slots_page(login(patient.user), clinic, day=saturday.isoformat())
    assert _chosen(html) == saturday + dt.timedelta(days=2)  # the Monday after


def test_a_day_that_is_not_a_date_is_refused(login, patient, clinic):
    url = reverse("booking:request_slots", args=[clinic.location.slug])
    assert login(patient.user).get(url, {"day": "9999-99-99"}).status_code == 400


def test_tapping_a_time_holds_it_and_opens_the_confirmation(login, patient, clinic):
    client = login(patient.user)
    tuesday = next_weekday(clinic.location, 1, 9).date()
    start = _shown_times(_slots_page(client, clinic, day=tuesday.isoformat()))[2]
    response = _hold(client, clinic, start)  # what the time's own button posts
    hold = SlotHold.objects.get()
    assert response.url == reverse("booking:request_confirm", args=[hold.pk])
    assert hold.starts_at == start


def test_next_available_is_the_first_free_time_of_all(login, patient, clinic):
    client = login(patient.user)
    first = _shown_times(_slots_page(client, clinic))[0]
    a_booking(clinic, first)
    html = _slots_page(client, clinic)
    button = re.search(r'name="slot" value="([^"]+)" class="btn btn-primary btn-lg">Next', html)
    value = button[1]
    assert value == slot_choice_value(clinic.practitioner.pk, _shown_times(html)[0])
    assert dt.datetime.fromisoformat(value.split("|")[1]) > first
    response = client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]), {"slot": value}
    )
    assert response.url == reverse("booking:request_confirm", args=[SlotHold.objects.get().pk])


def test_without_free_times_the_page_says_to_phone_or_join_the_waitlist(login, patient, clinic):
    clinic.practitioner.working_hours.all().delete()
    html = _slots_page(login(patient.user), clinic, day=clinic.location.today().isoformat())
    assert 'name="slot"' not in html and "Days with free times" not in html
    assert f"No free times in the next {clinic.location.booking_horizon_days} days" in html
    assert reverse("booking:waitlist_join", args=[clinic.location.slug]) in html
