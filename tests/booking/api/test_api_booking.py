"""Booking through the API with the pages' engine and services: `$find` (the same free
times, certification, buffers, the patient's own appointments, the course gate), `$hold`,
`$book` (the patient's online request, with its emails) and cancelling by status; a page
booking and an API booking racing for one slot end with one appointment and a 409."""

from __future__ import annotations

import datetime as dt

import pytest

from booking import services
from booking.availability import SlotQuery
from booking.models import Appointment, AppointmentEvent, Notification, SlotHold, Status
from booking.selectors import load_availability
from clinic.models import AccessLog
from tests.booking.api.conftest import CANCELLING, booking_of_a_slot
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_booking,
    a_colleague,
    a_placed_hold,
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)
from tests.booking.races import at_once, first_holds_its_lock
from tests.factories import PatientFactory


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _find(api, start, end, *, service_type=None, patient=None, count=None):
    """`$find` between two moments, of one kind of visit and for one patient when given."""
    parameters = []
    if service_type is not None:
        parameters.append({"name": "service-type", "valueString": service_type})
    parameters.append({"name": "start", "valueString": _utc(start)})
    parameters.append({"name": "end", "valueString": _utc(end)})
    if patient is not None:
        parameters.append(
            {"name": "patient", "valueReference": {"reference": f"Patient/{patient.pk}"}}
        )
    if count is not None:
        parameters.append({"name": "_count", "valueInteger": count})
    return api.post(
        "/fhir/Appointment/$find", {"resourceType": "Parameters", "parameter": parameters}
    )


def _a_day(clinic, weekday: int = 3):
    day = next_weekday(clinic.location, weekday, 0)
    return day, day + dt.timedelta(days=1)


def test_find_gives_the_engines_free_times(api, clinic, patient):
    start, end = _a_day(clinic)
    found = _find(api, start, end, service_type="assessment", patient=patient, count=200).fhir
    availability = load_availability(
        location=clinic.location, window_start=start, window_end=end, patient=patient
    )
    engine = availability.slots(
        SlotQuery(
            window_start=start,
            window_end=end,
            length=dt.timedelta(minutes=60),
            now=start - dt.timedelta(days=7),  # notice and horizon as seen from today
            needs_certification=False,
        )
    )
    assert found["total"] == len(engine) > 0
    assert [e["resource"]["start"] for e in found["entry"]] == [_utc(s.starts_at) for s in engine]
    assert all(e["resource"]["status"] == "proposed" for e in found["entry"])


def test_find_leaves_out_the_patients_own_appointments(api, clinic, patient):
    colleague = a_colleague(clinic)
    start, end = _a_day(clinic)
    ten = next_weekday(clinic.location, 3, 10)
    an_appointment(clinic, patient, ten, practitioner=colleague)
    with_patient = _find(
        api, start, end, service_type="assessment", patient=patient, count=200
    ).fhir
    without = _find(api, start, end, service_type="assessment", count=200).fhir
    assert _utc(ten) in {e["resource"]["start"] for e in without["entry"]}
    assert _utc(ten) not in {e["resource"]["start"] for e in with_patient["entry"]}


def test_find_for_a_patient_needs_the_scope_that_reads_their_appointments(
    api_client_for, clinic, patient
):
    """Naming a patient takes their appointments out of the free times: comparing the answer
    with the one for no patient tells when they have a visit, so a client that may only read
    slots (a public "book now" widget) may not name one."""
    start, end = _a_day(clinic)
    an_appointment(clinic, patient, next_weekday(clinic.location, 3, 10))
    slots_only = api_client_for(scopes="system/Slot.read", locations=[clinic.location])
    response = _find(slots_only, start, end, service_type="assessment", patient=patient)
    assert response.status_code == 403
    assert "system/Appointment.read" in response.fhir["issue"][0]["diagnostics"]
    assert not AccessLog.objects.filter(actor=slots_only.client.account).exists()
    assert _find(slots_only, start, end, service_type="assessment").status_code == 200


def test_dry_needling_is_found_only_through_the_course_gate(
    api, api_client_for, clinic, patient, prescribe
):
    uncertified = a_colleague(clinic, certified=False)
    start, end = _a_day(clinic)
    refused = _find(api, start, end, service_type="dry_needling")
    assert refused.status_code == 422
    # The gate is the practitioner's clinical decision: without the clinical scope, no answer.
    prescribe(patient, clinic.practitioner)
    not_told = _find(api, start, end, service_type="dry_needling", patient=patient)
    assert not_told.status_code == 403
    everything = _find(api, start, end, patient=patient, count=200).fhir
    kinds = {e["resource"]["serviceType"][0]["coding"][0]["code"] for e in everything["entry"]}
    assert "dry_needling" not in kinds
    api = api_client_for(
        scopes=(
            "system/Slot.read system/Appointment.read system/Patient.read "
            "system/QuestionnaireResponse.read"
        ),
        locations=[clinic.location],
    )
    other = PatientFactory()
    other.locations.add(clinic.location)
    refused = _find(api, start, end, service_type="dry_needling", patient=other)
    assert refused.status_code == 422
    found = _find(api, start, end, service_type="dry_needling", patient=patient, count=200).fhir
    assert found["total"] > 0
    practitioners = {
        p["actor"]["reference"] for e in found["entry"] for p in e["resource"]["participant"]
    }
    assert f"Practitioner/{uncertified.pk}" not in practitioners


def _proposed(api, clinic, patient, weekday: int = 3) -> dict:
    start, end = _a_day(clinic, weekday)
    found = _find(api, start, end, service_type="assessment", patient=patient, count=1)
    return found.fhir["entry"][0]["resource"]


def test_book_makes_the_patients_request_with_its_email(api, clinic, patient):
    proposed = _proposed(api, clinic, patient)
    response = api.post("/fhir/Appointment/$book", proposed)
    assert response.status_code == 201
    booked = Appointment.objects.get(pk=response.fhir["id"])
    assert response["Location"].endswith(f"/fhir/Appointment/{booked.pk}/_history/1")
    assert _utc(booked.starts_at) == proposed["start"]
    assert booked.patient == patient and booked.status == Status.REQUESTED
    assert booked.created_by == api.client.account
    assert AppointmentEvent.objects.filter(appointment=booked, kind="created").exists()
    assert Notification.objects.filter(appointment=booked, kind="request_received").exists()
    assert response.fhir["status"] == "pending"
    again = api.get(f"/fhir/Appointment/{booked.pk}")
    assert again.fhir["start"] == proposed["start"]


def test_hold_then_book_the_hold(api, clinic, patient):
    proposed = _proposed(api, clinic, patient)
    held = api.post(
        "/fhir/Appointment/$hold",
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "appointment-resource", "resource": proposed}],
        },
    )
    assert held.status_code == 200
    [identifier] = held.fhir["identifier"]
    hold = SlotHold.objects.get(pk=identifier["value"])
    assert hold.patient == patient and hold.appointment is None
    assert AccessLog.objects.filter(
        actor=api.client.account, record_id=str(hold.pk), action="create", patient=patient
    ).exists()
    booked = api.post(
        "/fhir/Appointment/$book",
        {"resourceType": "Appointment", "status": "proposed", "identifier": [identifier]},
    )
    assert booked.status_code == 201
    hold.refresh_from_db()
    assert str(hold.appointment_id) == booked.fhir["id"]


def test_only_the_client_that_placed_a_hold_books_it(api, api_client_for, clinic, patient):
    """Another client of the same location, the patient's own hold on the pages and a
    waitlist offer's hold are all unknown holds to a client: 404, nothing booked."""
    proposed = _proposed(api, clinic, patient)
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment-resource", "resource": proposed}],
    }
    [placed_by_api] = api.post("/fhir/Appointment/$hold", parameters).fhir["identifier"]
    other = api_client_for(locations=[clinic.location])
    on_the_pages = a_placed_hold(clinic, patient, next_weekday(clinic.location, 4, 10))
    entry = a_waitlist_entry(clinic, patient)
    offered = a_waitlist_offer(
        entry, a_slot_hold(clinic, patient, next_weekday(clinic.location, 4, 14))
    ).hold
    for client, hold in (
        (other, placed_by_api["value"]),
        (api, str(on_the_pages.pk)),
        (api, str(offered.pk)),
    ):
        identifier = {"system": placed_by_api["system"], "value": hold}
        booked = client.post(
            "/fhir/Appointment/$book",
            {"resourceType": "Appointment", "status": "proposed", "identifier": [identifier]},
        )
        assert booked.status_code == 404, hold
    assert not Appointment.objects.exists()


def test_a_taken_slot_is_a_409(api, clinic, patient):
    proposed = _proposed(api, clinic, patient)
    someone = PatientFactory()
    someone.locations.add(clinic.location)
    an_appointment(
        clinic, someone, dt.datetime.fromisoformat(proposed["start"].replace("Z", "+00:00"))
    )
    response = api.post("/fhir/Appointment/$book", proposed)
    assert response.status_code == 409
    assert response.fhir["issue"][0]["code"] == "conflict"
    assert not Appointment.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("seconds_off", [7 * 60, 30])
def test_a_slot_id_off_the_grid_is_refused(api, clinic, patient, seconds_off):
    # $find names times on the location's quarter hours; a Slot id made up for 10:07 (or
    # 10:00:30) is not one of them, free as the practitioner may be then.
    off = next_weekday(clinic.location, 3, 10) + dt.timedelta(seconds=seconds_off)
    booking = booking_of_a_slot(clinic, clinic.assessment, 60, off, patient)
    assert (
        api.get(booking["slot"][0]["reference"].replace("Slot/", "/fhir/Slot/")).status_code == 404
    )
    response = api.post("/fhir/Appointment/$book", booking)
    assert response.status_code == 409
    assert "times offered" in response.fhir["issue"][0]["diagnostics"]
    assert not Appointment.objects.filter(patient=patient).exists()


def test_dry_needling_is_not_booked_one_session_at_a_time(api, clinic, patient):
    ten = next_weekday(clinic.location, 3, 10)
    booking = booking_of_a_slot(clinic, clinic.needling, 30, ten, patient)
    response = api.post("/fhir/Appointment/$book", booking)
    assert response.status_code == 422
    assert "course" in response.fhir["issue"][0]["diagnostics"]


def test_bad_booking_input_is_a_400(api, clinic, patient):
    for body in (
        {"resourceType": "Patient"},
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-2-3"}]},
        {"resourceType": "Parameters", "parameter": []},
        [],
    ):
        assert api.post("/fhir/Appointment/$book", body).status_code in (400, 404), body
    response = api.call("POST", "/fhir/Appointment/$book", None)
    assert response.status_code == 400


def test_cancelling_by_patching_the_status(api, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = api.call(
        "PATCH",
        f"/fhir/Appointment/{appointment.pk}",
        CANCELLING,
        HTTP_IF_MATCH=f'W/"{appointment.version}"',
    )
    assert response.status_code == 200
    assert response.fhir["status"] == "cancelled"
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    event = appointment.events.get(to_status=Status.CANCELLED)
    assert event.actor == api.client.account and event.details["api_client"] == api.client.name
    assert Notification.objects.filter(appointment=appointment, kind="cancelled").exists()


def test_cancelling_by_putting_the_resource_with_a_reason(api, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    resource = api.get(f"/fhir/Appointment/{appointment.pk}").fhir
    resource["status"] = "cancelled"
    resource["cancelationReason"] = {"text": "Referral withdrawn"}
    response = api.call("PUT", f"/fhir/Appointment/{appointment.pk}", resource)
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == "Referral withdrawn"


def test_updates_other_than_cancelling_are_refused(api, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    path = f"/fhir/Appointment/{appointment.pk}"
    assert api.call("PATCH", path, {"status": "fulfilled"}).status_code == 422
    assert (
        api.call(
            "PUT", path, {"resourceType": "Appointment", "id": "0", "status": "cancelled"}
        ).status_code
        == 400
    )
    stale = api.call("PATCH", path, {"status": "cancelled"}, HTTP_IF_MATCH='W/"99"')
    assert stale.status_code == 412
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_writing_needs_the_write_scope(api_client_for, clinic, patient):
    reader = api_client_for(
        scopes="system/Appointment.read system/Slot.read", locations=[clinic.location]
    )
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = reader.call("PATCH", f"/fhir/Appointment/{appointment.pk}", {"status": "cancelled"})
    assert response.status_code == 403


def test_a_client_that_may_write_but_not_read_learns_nothing_of_the_appointment(
    api_client_for, clinic, patient
):
    """An update answers with the appointment as it stands, and an update that changes
    nothing is that answer alone: without `system/Appointment.read` it would be a read by
    another door. The client learns that its change was made, not the appointment."""
    writer = api_client_for(scopes="system/Appointment.write", locations=[clinic.location])
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    path = f"/fhir/Appointment/{appointment.pk}"
    unchanged = writer.call(
        "PATCH", path, [{"op": "replace", "path": "/status", "value": "booked"}]
    )
    cancelled = writer.call("PATCH", path, CANCELLING)
    for response in (unchanged, cancelled):
        assert response.status_code == 200
        assert response.fhir["resourceType"] == "OperationOutcome"
        assert response.fhir["issue"][0]["severity"] == "information"
        assert f"Patient/{patient.pk}" not in response.content.decode()
        assert "start" not in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert cancelled["ETag"] == f'W/"{appointment.version}"'


@pytest.mark.django_db(transaction=True)
def test_an_api_booking_and_a_page_booking_racing_for_one_slot(
    api_client_for, location, practitioner, django_user_model
):
    """Each on its own database connection: one appointment, and the API's loss (or the
    page's) is a clear refusal, never an error."""
    from tests.booking.factories import a_clinic

    clinic = a_clinic(location=location, practitioner=practitioner, rooms=3)
    api = api_client_for(locations=[location])
    staff = django_user_model.objects.create_user("desk@example.org", "x", role="front_desk")
    by_api, by_phone = PatientFactory(), PatientFactory()
    by_api.locations.add(location)
    start = next_weekday(location, 2, 11)
    booking = booking_of_a_slot(clinic, clinic.assessment, 60, start, by_api)

    def through_the_api():
        response = api.post("/fhir/Appointment/$book", booking)
        if response.status_code == 409:  # the API's refusal is the page's BookingError
            raise services.BookingError("taken")
        assert response.status_code == 201, response.status_code

    def at_the_desk():
        a_booking(clinic, start, patient=by_phone, actor=staff)

    outcomes = at_once(
        [through_the_api, at_the_desk], won="booked", lost=(services.BookingError, "refused")
    )
    assert outcomes == ["booked", "refused"]
    assert (
        Appointment.objects.filter(starts_at=start, status__in=["requested", "confirmed"]).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_cancelling_what_is_being_cancelled_meanwhile_answers_it_cancelled(
    api_client_for, location, practitioner, django_user_model
):
    """A PUT is idempotent: the client asked for "cancelled", and so it is, by the desk a
    moment before. The same answer as asking a moment later, not a 409 telling the client
    that a cancelled appointment cannot be cancelled."""
    from tests.booking.factories import a_clinic

    clinic = a_clinic(location=location, practitioner=practitioner)
    api = api_client_for(locations=[location])
    staff = django_user_model.objects.create_user("desk@example.org", "x", role="front_desk")
    patient = PatientFactory()
    appointment = an_appointment(clinic, patient, next_weekday(location, 2, 11))
    answers = []

    def at_the_desk():
        services.cancel_appointment(
            appointment, by="clinic", actor=staff, reason="Practitioner ill"
        )

    def through_the_api():
        answers.append(api.call("PATCH", f"/fhir/Appointment/{appointment.pk}", CANCELLING))

    desk, _, waited = first_holds_its_lock(
        at_the_desk, through_the_api, won="done", lost=(services.BookingError, "refused")
    )
    assert desk == "done" and waited
    [answer] = answers
    assert answer.status_code == 200, answer.content
    assert answer.fhir["status"] == "cancelled"
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == "Practitioner ill"


@pytest.mark.parametrize(
    "character, named",
    # A NUL, and half of a UTF-16 pair (JSON may write "\\ud800"): no text PostgreSQL stores
    # can hold either, so each is refused on the body, not left to fail the write with a 500.
    [("\u0000", "NUL"), ("\ud800", "U+D800"), ("\udfff", "U+DFFF")],
)
def test_a_character_no_text_can_hold_in_a_body_is_a_400_and_changes_nothing(
    api, clinic, patient, character, named
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    cancelling = {"status": "cancelled", "cancelationReason": {"text": f"Moved{character}away"}}
    response = api.call("PATCH", f"/fhir/Appointment/{appointment.pk}", cancelling)
    assert response.status_code == 400
    assert named in response.fhir["issue"][0]["diagnostics"]
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED

    proposed = _proposed(api, clinic, patient) | {"comment": f"Left heel{character}"}
    response = api.post("/fhir/Appointment/$book", proposed)
    assert response.status_code == 400
    assert not Appointment.objects.filter(patient=patient).exclude(pk=appointment.pk).exists()


def test_a_body_of_the_wrong_shape_is_a_400_not_an_error(api, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    path = f"/fhir/Appointment/{appointment.pk}"
    for method, address, body, words in [
        ("PATCH", path, {"status": ["cancelled"]}, "status"),
        ("PATCH", path, [{"op": "replace", "path": "/status", "value": {}}], "status"),
        (
            "PUT",
            path,
            {"resourceType": "Appointment", "id": str(appointment.pk), "status": 1},
            "status",
        ),
        (
            "POST",
            "/fhir/Appointment/$find",
            {"resourceType": "Parameters", "parameter": 5},
            "parameter",
        ),
        (
            "POST",
            "/fhir/Appointment/$book",
            {"resourceType": "Parameters", "parameter": 5},
            "parameter",
        ),
        (
            "POST",
            "/fhir/Appointment/$book",
            {"resourceType": "Appointment", "participant": 5},
            "participant",
        ),
        (
            "POST",
            "/fhir/Appointment/$book",
            {"resourceType": "Appointment", "identifier": 5},
            "identifier",
        ),
        (
            "POST",
            "/fhir/Appointment/$book",
            {
                "resourceType": "Appointment",
                "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}}],
                "slot": "Slot/1",
            },
            "slot",
        ),
    ]:
        response = api.call(method, address, body)
        assert response.status_code == 400, (method, address, body)
        assert words in response.fhir["issue"][0]["diagnostics"], (address, body)
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_text_sent_as_another_json_type_is_a_400_not_stored_as_its_repr(api, clinic, patient):
    """A comment or a cancellation reason that is not a string was kept as Python wrote it
    (`{'text': ['x']}`), on the patient's request and in the appointment's history."""
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    path = f"/fhir/Appointment/{appointment.pk}"
    for reason in ({"text": ["Moved away"]}, "Moved away", [{"text": "Moved away"}]):
        cancelling = {"status": "cancelled", "cancelationReason": reason}
        response = api.call("PATCH", path, cancelling)
        assert response.status_code == 400, reason
        assert "cancelationReason" in response.fhir["issue"][0]["diagnostics"]
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED
    response = api.post(
        "/fhir/Appointment/$book", _proposed(api, clinic, patient) | {"comment": {"text": "x"}}
    )
    assert response.status_code == 400
    assert "comment" in response.fhir["issue"][0]["diagnostics"]
    assert not Appointment.objects.filter(patient=patient).exclude(pk=appointment.pk).exists()


def test_a_body_nested_deeper_than_the_parser_goes_is_a_400(api, clinic):
    deep = "[" * 100_000 + "]" * 100_000
    response = api.http.post(
        "/fhir/Appointment/$book",
        deep,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 400
    assert "not JSON" in response.json()["issue"][0]["diagnostics"]


def test_a_body_past_the_size_limit_is_a_413_operation_outcome(api, clinic, patient, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    proposed = _proposed(api, clinic, patient) | {"comment": "x" * 20_000}
    response = api.post("/fhir/Appointment/$book", proposed)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response.fhir["issue"][0]["code"] == "too-long"
    assert not Appointment.objects.filter(patient=patient).exists()


def test_an_address_with_more_parameters_than_allowed_is_a_400_operation_outcome(
    api, clinic, settings
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    response = api.get("/fhir/Appointment?" + "&".join(["status=booked"] * 30))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/fhir+json")
    assert "parameters" in response.fhir["issue"][0]["diagnostics"]


def test_only_a_dry_needling_practitioners_times_are_found_or_booked(api, clinic, patient):
    """The API books the patients' online request, and online a patient is offered only
    practitioners certified for dry needling (the request pages refuse a forged choice of
    another): an assessment with a colleague who cannot needle is booked by the clinic."""
    uncertified = a_colleague(clinic, certified=False)
    start, end = _a_day(clinic)
    found = _find(api, start, end, service_type="assessment", patient=patient, count=200).fhir
    practitioners = {
        p["actor"]["reference"] for e in found["entry"] for p in e["resource"]["participant"]
    }
    assert f"Practitioner/{clinic.practitioner.pk}" in practitioners
    assert f"Practitioner/{uncertified.pk}" not in practitioners
    schedule = f"Schedule/{uncertified.pk}-{clinic.location.pk}"
    assert api.get(f"/fhir/Slot?schedule={schedule}&_count=1").fhir["total"] == 0

    ten = next_weekday(clinic.location, 3, 10)
    proposed = booking_of_a_slot(clinic, clinic.assessment, 60, ten, patient)
    slot = proposed["slot"][0]["reference"].replace(
        f"-{clinic.practitioner.pk}-", f"-{uncertified.pk}-", 1
    )
    assert api.get(f"/fhir/{slot}").status_code == 404
    with_colleague = proposed | {"slot": [{"reference": slot}]}
    for operation in ("$hold", "$book"):
        response = api.post(f"/fhir/Appointment/{operation}", with_colleague)
        assert response.status_code == 409, operation
        assert "dry-needling" in response.fhir["issue"][0]["diagnostics"]
    assert not Appointment.objects.filter(patient=patient).exists()
    assert not SlotHold.objects.filter(patient=patient).exists()
    # The same time with the certified practitioner is booked.
    assert api.post("/fhir/Appointment/$book", proposed).status_code == 201


def test_an_update_that_changes_nothing_still_honours_if_match(api, clinic, patient):
    """A client holding an old version learns that it is old (412), even when what it asks
    for is already so: it may be acting on a state the clinic has since changed back."""
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    path = f"/fhir/Appointment/{appointment.pk}"
    as_it_is = [{"op": "replace", "path": "/status", "value": "booked"}]
    stale = api.call("PATCH", path, as_it_is, HTTP_IF_MATCH=f'W/"{appointment.version + 1}"')
    assert stale.status_code == 412
    assert api.call("PATCH", path, as_it_is, HTTP_IF_MATCH='"abc"').status_code == 400
    current = api.call("PATCH", path, as_it_is, HTTP_IF_MATCH=f'W/"{appointment.version}"')
    assert current.status_code == 200
    assert current.fhir["status"] == "booked"


def test_the_address_a_booking_answers_with_reads_that_version(api, clinic, patient):
    """`$book` answers 201 with `Location: …/Appointment/<id>/_history/<version>`, as FHIR
    says a create does; a client following it reads the appointment (the current version;
    an older one is not kept, a 404 saying so)."""
    booked = api.post("/fhir/Appointment/$book", _proposed(api, clinic, patient))
    assert booked.status_code == 201
    path = booked["Location"].removeprefix("http://testserver")
    assert path == f"/fhir/Appointment/{booked.fhir['id']}/_history/1"
    followed = api.get(path)
    assert followed.status_code == 200
    assert followed.fhir == booked.fhir and followed["ETag"] == 'W/"1"'
    api.call("PATCH", f"/fhir/Appointment/{booked.fhir['id']}", CANCELLING)
    older = api.get(path)
    assert older.status_code == 404
    assert "current version is 2" in older.fhir["issue"][0]["diagnostics"]
    assert api.get(path.replace("/_history/1", "/_history/2")).fhir["status"] == "cancelled"
    reader_of_slots = api.get(path, token=api.fetch_token(scope="system/Slot.read"))
    assert reader_of_slots.status_code == 403
