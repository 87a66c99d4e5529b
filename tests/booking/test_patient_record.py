"""A patient's complete record on request: JSON and a printable page, for the patient or a
manager, each export in the access log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.billing import payments
from booking.billing import world as billing_world
from booking.billing.models import Invoice
from booking.models import Notification, Status
from clinic.models import AccessLog
from clinic.templatetags.clinic_time import at_location
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_course,
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)
from tests.intake.factories import publish_consents, sign, signed_assessment, submitted_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(clinic, patient):
    submitted_intake(patient)
    sign(patient, publish_consents())
    signed_assessment(patient, clinic.practitioner)
    start = next_weekday(clinic.location, 1, 10)
    return an_appointment(clinic, patient, start)


def test_a_patient_downloads_their_whole_record_as_json(login, patient, history):
    response = login(patient.user).get(reverse("booking:my_record"), {"format": "json"})
    assert response["Content-Disposition"].startswith("attachment;")
    record = json.loads(response.content)
    assert record["patient"]["last_name"] == patient.last_name
    assert [a["id"] for a in record["appointments"]] == [history.pk]
    assert (
        len(record["questionnaires"]) == 1 and record["questionnaires"][0]["status"] == "submitted"
    )
    assert len(record["assessments"]) == 1 and record["assessments"][0]["fingerprint"]
    assert len(record["consent_signatures"]) >= 1
    assert AccessLog.objects.filter(actor=patient.user, action="export", patient=patient).exists()


def test_the_printable_page_shows_the_same_record(login, patient, history):
    html = login(patient.user).get(reverse("booking:my_record")).content.decode()
    assert "Record of" in html and history.service.name in html and "Assessment notes (1)" in html


def test_the_history_of_an_appointment_says_its_statuses_in_the_clinics_words(
    login, patient, history
):
    services.cancel_appointment(history, by="patient", actor=patient.user, reason="Travelling")
    client = login(patient.user)
    html = client.get(reverse("booking:my_record")).content.decode()
    assert "(Cancelled) — Travelling" in html and "(cancelled)" not in html
    record = json.loads(client.get(reverse("booking:my_record"), {"format": "json"}).content)
    assert record["appointments"][0]["history"][-1]["status"] == "Cancelled"


def test_a_manager_exports_any_patients_record_for_a_records_request(
    login, manager, patient, history
):
    response = login(manager).get(
        reverse("booking:patient_record", args=[patient.pk]), {"format": "json"}
    )
    assert json.loads(response.content)["patient"]["record_number"] == patient.pk


def test_others_cannot_export_a_record(login, front_desk, practitioner, other_patient, patient):
    assert (
        login(front_desk).get(reverse("booking:patient_record", args=[patient.pk])).status_code
        == 403
    )
    assert (
        login(practitioner.user)
        .get(reverse("booking:patient_record", args=[patient.pk]))
        .status_code
        == 403
    )
    # A patient's own record page never takes an id: there is nothing to change in the address.
    mine = login(other_patient.user).get(reverse("booking:my_record"), {"format": "json"})
    assert json.loads(mine.content)["patient"]["record_number"] == other_patient.pk


def _money_waitlist_and_email(
    clinic, patient, front_desk, hours_ago: float = 2, weeks_ahead: int = 3
):
    """An assessment `hours_ago` hours ago, completed and invoiced at 120.00 CAD with 50.00 paid
    by card; a waitlist place on Tuesdays and Thursdays for an earlier time than an assessment
    on Thursday at 14:00 `weeks_ahead` weeks from now, with a time offered; a confirmation
    email. Returns the visit and its invoice."""
    billing_world.terms(clinic.location, currency="CAD")
    billing_world.fee(clinic.location, clinic.assessment, "120.00")
    visit = an_appointment(
        clinic, patient, timezone.now() - dt.timedelta(hours=hours_ago), status=Status.CHECKED_IN
    )
    services.change_status(visit, to=Status.COMPLETED, actor=clinic.practitioner.user)
    invoice = Invoice.objects.get(appointment=visit)
    payments.take_payment(invoice, amount="50.00", method="card", actor=front_desk)
    later = an_appointment(
        clinic, patient, next_weekday(clinic.location, 3, 14, weeks_ahead=weeks_ahead)
    )
    entry = a_waitlist_entry(clinic, patient, weekdays=(1, 3), replaces=later)
    a_waitlist_offer(entry, a_slot_hold(clinic, patient, next_weekday(clinic.location, 1, 10)))
    Notification.objects.create(
        kind=Notification.Kind.CONFIRMED,
        location=clinic.location,
        patient=patient,
        appointment=visit,
        to_email=patient.email,
    )
    return visit, invoice


def test_the_record_holds_invoices_and_payments_waitlist_places_and_emails(
    login, clinic, patient, front_desk
):
    visit, invoice = _money_waitlist_and_email(clinic, patient, front_desk)
    client = login(patient.user)
    record = json.loads(client.get(reverse("booking:my_record"), {"format": "json"}).content)
    [billed] = record["invoices"]
    assert (billed["number"], billed["total"], billed["balance"]) == (
        invoice.display_number,
        "120.00",
        "70.00",
    )
    assert [line["amount"] for line in billed["lines"]] == ["120.00"]
    assert [(p["what"], p["method"], p["amount"]) for p in billed["payments"]] == [
        ("Payment", "Card at the terminal", "50.00")
    ]
    [place] = record["waitlist"]
    assert place["days"] == ["Tuesday", "Thursday"] and place["earliest_time"] == "08:00"
    assert [offer["state"] for offer in place["offers"]] == ["Open"]
    # The appointment taking an offer would move, at its location's time.
    later = patient.appointments.get(starts_at__gt=timezone.now())
    when = at_location(later.starts_at, clinic.location)
    assert place["replaces"] == {
        "appointment": later.pk,
        "service": clinic.assessment.name,
        "location": clinic.location.name,
        "starts_at": later.starts_at.isoformat(),
        "at_location": when,
    }
    assert [(e["about"], e["to"], e["appointment"]) for e in record["emails"]] == [
        ("Confirmation", patient.email, visit.pk)
    ]
    html = client.get(reverse("booking:my_record")).content.decode()
    assert invoice.display_number in html and "Waitlist places (1)" in html
    assert (
        f"for an earlier time than appointment {later.pk} ({clinic.assessment.name}, {when} at "
        f"{clinic.location.name}), which taking an offer moves" in html
    )
    assert "Emails (1)" in html


def test_the_record_links_each_invoice_to_its_receipt_superbill_and_credit_notes(
    login, clinic, patient, front_desk
):
    """A records request names the documents an insurer or an accountant asks for, and where
    the patient (or the manager answering the request) downloads each."""
    visit, invoice = _money_waitlist_and_email(clinic, patient, front_desk)
    note = payments.issue_credit_note(
        invoice, amount="20.00", reason="Charged twice", actor=front_desk
    )
    client = login(patient.user)
    [billed] = client.get(reverse("booking:my_record"), {"format": "json"}).json()["invoices"]
    receipt = reverse("documents:invoice_receipt", args=[invoice.pk])
    credit_note = reverse("documents:credit_note", args=[note.pk])
    assert billed["receipt_pdf"] == receipt
    assert billed["superbill_pdf"] is None  # a location with no EIN issues no superbills
    assert [n["pdf"] for n in billed["credit_notes"]] == [credit_note]
    for address in (receipt, credit_note):
        assert client.get(address)["Content-Type"] == "application/pdf"
    html = client.get(reverse("booking:my_record")).content.decode()
    assert f'href="{receipt}"' in html and f'href="{credit_note}"' in html
    assert "Superbill" not in html

    clinic.location.tax_id = "52-1234567"
    clinic.location.save(update_fields=["tax_id"])
    superbill = reverse("documents:invoice_superbill", args=[invoice.pk])
    [billed] = client.get(reverse("booking:my_record"), {"format": "json"}).json()["invoices"]
    assert billed["superbill_pdf"] == superbill
    assert f'href="{superbill}"' in client.get(reverse("booking:my_record")).content.decode()


def test_the_export_takes_a_fixed_number_of_queries(
    login, clinic, patient, front_desk, history, django_assert_max_num_queries
):
    client = login(patient.user)
    with django_assert_max_num_queries(22):
        client.get(reverse("booking:my_record"), {"format": "json"})
    # Invoices with payments, waitlist places with offers and emails: loaded with their own
    # few queries, however many there are.
    for weeks_ahead, hours_ago in enumerate((3, 26, 50), start=3):
        _money_waitlist_and_email(
            clinic, patient, front_desk, hours_ago=hours_ago, weeks_ahead=weeks_ahead
        )
    with django_assert_max_num_queries(23):
        record = client.get(reverse("booking:my_record"), {"format": "json"}).json()
    assert len(record["invoices"]) == 3 and len(record["emails"]) == 3
    # The appointments the places would move come with the places.
    assert len({place["replaces"]["appointment"] for place in record["waitlist"]}) == 3


def test_the_record_holds_every_check_in_corrections_included(login, clinic, patient, history):
    from intake.clinical.models import AfterCareResponse, AssessmentNote
    from tests.intake.factories import a_correction, a_survey_answer

    # After care of the first session of the course the signed assessment prescribed.
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED],
        first_start=history.starts_at - dt.timedelta(days=7),
        assessment=AssessmentNote.objects.get(patient=patient),
    )
    session = course.appointments.get()
    first = a_survey_answer(
        session, channel="link", worrying=True, worrying_details="Tingling toes"
    )
    a_correction(first, bruising=True)
    AfterCareResponse.objects.create(checkin=first, by=history.practitioner.user, note="Phoned")
    client = login(patient.user)
    record = json.loads(client.get(reverse("booking:my_record"), {"format": "json"}).content)
    assert [c["bruising"] for c in record["checkins"]] == [False, True]
    assert record["checkins"][0]["response"]["note"] == "Phoned"
    assert record["checkins"][1]["supersedes"] == first.pk
    assert "Outcome surveys (2)" in client.get(reverse("booking:my_record")).content.decode()


def test_unsigned_drafts_are_not_released_with_the_record(login, clinic, patient, history):
    from intake.clinical.models import AssessmentNote
    from tests.intake.factories import AssessmentFactory, session_note

    signed = AssessmentNote.objects.get(patient=patient)
    draft = AssessmentFactory(patient=patient, author=clinic.practitioner)
    session_note(signed, 1)  # a session note not signed yet
    record = json.loads(
        login(patient.user).get(reverse("booking:my_record"), {"format": "json"}).content
    )
    assert [a["id"] for a in record["assessments"]] == [signed.pk] != [draft.pk]
    assert record["session_notes"] == []
    html = login(patient.user).get(reverse("booking:my_record")).content.decode()
    assert "Assessment notes (1)" in html and "not signed" not in html
