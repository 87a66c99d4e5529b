"""A credit note as a PDF of its own, read back as the patient and the accountant read it: its own
number and date, the clinic with its tax registration, the patient, the invoice it credits, the
amount (and the tax given back where the invoice charged tax) and why; downloaded by whoever may
have the invoice's receipt, each download written to the access log, and linked from the pages
that list credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.billing import documents, pdf
from booking.billing import world as billing_world
from booking.billing.payments import issue_credit_note, waive_fee
from clinic.models import AccessLog
from tests.booking.billing.conftest import a_missed_visit_fee, an_invoiced_visit, pdf_text

pytestmark = pytest.mark.django_db

REASON = "Charged as 60 minutes; the assessment took 45"


@pytest.fixture
def credit_note(paid_visit, front_desk):
    """20.00 credited off `paid_visit` (120.00, tax exempt, 100.00 paid) by the front desk, at a
    location whose billing terms carry its tax registration number."""
    terms = paid_visit.location.billing
    terms.tax_number = "81234 5678 RT0001"
    terms.save()
    return issue_credit_note(paid_visit, amount="20.00", reason=REASON, actor=front_desk)


@pytest.fixture
def url(credit_note):
    return reverse("documents:credit_note", args=[credit_note.pk])


@pytest.fixture
def taxed(billed):
    """`billed` charging HST at 13% (say a service that is not physiotherapy)."""
    billing_world.terms(
        billed.location, currency="CAD", tax_exempt=False, tax_rate="0.13", tax_label="HST 13%"
    )
    return billed


# --- What the PDF says ---------------------------------------------------------------------------


def test_a_credit_note_names_its_number_clinic_patient_invoice_amount_and_reason(
    credit_note, paid_visit, patient
):
    document = pdf.credit_note_pdf(credit_note)
    number = f"{paid_visit.number_prefix}-{credit_note.year}-C{credit_note.number:04d}"
    assert document.filename == f"credit-note-{number}.pdf"
    text = pdf_text(document.content)
    location = paid_visit.location
    issued = timezone.localtime(credit_note.issued_at, location.zone).date()
    assert f"Credit note {number}" in text and f"Issued {issued:%-d %B %Y}" in text
    assert "Stride Clinics" in text and location.name in text
    assert location.street_address in text and location.phone in text
    assert "Tax registration: 81234 5678 RT0001" in text
    assert f"{patient.full_name}, born {patient.date_of_birth:%-d %B %Y}" in text
    # The invoice it credits: its own number and date, and what it charged.
    assert f"Invoice {paid_visit.display_number}" in text
    assert f"Issued {paid_visit.issued_on:%-d %B %Y}" in text
    assert "Initial assessment (60 min)" in text and "Total 120.00 CAD" in text
    assert "Registration R14582, College of Physiotherapists of Ontario" in text
    assert f"Reason {REASON}" in text
    assert "Total credited 20.00 CAD" in text
    # An exempt invoice gave no tax to give back.
    assert "Tax credited" not in text and "before tax" not in text


def test_a_credit_note_of_a_missed_visit_fee_carries_no_registration(
    registered, patient, front_desk
):
    """As the fee's receipt: no care was given, so nothing on it reads as a claim for
    treatment."""
    fee = a_missed_visit_fee(registered, patient, front_desk)
    note = issue_credit_note(fee, amount="60.00", reason="Snowstorm", actor=front_desk)
    text = pdf_text(pdf.credit_note_pdf(note).content)
    assert "Missed visit" in text and "Total credited 60.00 CAD" in text
    assert "Registration R14582" not in text


def test_the_receipt_names_the_credit_notes_that_took_money_off(credit_note, paid_visit):
    text = pdf_text(pdf.receipt_pdf(paid_visit).content)
    assert f"Credited: 20.00 CAD (credit note {credit_note.display_number})" in text


def test_a_credit_note_is_dated_on_the_locations_calendar(paid_visit, front_desk):
    # 23:30 in Toronto is already tomorrow in UTC: the note is of today, as its number's year is.
    location = paid_visit.location
    late = dt.datetime.combine(location.today(), dt.time(23, 30), tzinfo=location.zone)
    note = issue_credit_note(paid_visit, amount="5.00", reason=REASON, actor=front_desk, now=late)
    assert late.astimezone(dt.UTC).date() != location.today()
    assert documents.credit_note(note).issued_on == location.today()
    text = pdf_text(pdf.credit_note_pdf(note).content)
    assert f"Issued {location.today():%-d %B %Y}" in text


def test_a_credit_note_of_a_taxed_invoice_says_the_tax_it_gives_back(
    taxed, patient, practitioner, front_desk
):
    invoice = an_invoiced_visit(taxed, patient, practitioner, hours_ago=2)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("120.00"),
        Decimal("15.60"),
        Decimal("135.60"),
    )
    note = issue_credit_note(invoice, amount="10.00", reason=REASON, actor=front_desk)
    assert documents.credit_note(note).tax == Decimal("1.15")  # 10.00 × 15.60 / 135.60
    text = pdf_text(pdf.credit_note_pdf(note).content)
    assert "HST 13% 15.60" in text and "Total 135.60 CAD" in text
    assert "Credited before tax 8.85" in text
    assert "Tax credited: HST 13% 1.15" in text
    assert "Total credited 10.00 CAD" in text


def test_credit_notes_taking_off_a_whole_taxed_invoice_give_back_its_tax_to_the_cent(
    taxed, patient, practitioner, front_desk
):
    # Each note's share of the tax rounded on its own would be 1.15 + 1.18 + 13.26 = 15.59.
    invoice = an_invoiced_visit(taxed, patient, practitioner, hours_ago=2)
    notes = [
        issue_credit_note(invoice, amount=amount, reason=REASON, actor=front_desk)
        for amount in ("10.00", "10.30", "115.30")
    ]
    taxes = [documents.tax_credited(note) for note in notes]
    assert taxes == [Decimal("1.15"), Decimal("1.19"), Decimal("13.26")]
    assert sum(taxes) == invoice.tax


# --- Who may download it -------------------------------------------------------------------------


def _exports() -> list[tuple]:
    return list(
        AccessLog.objects.filter(action=AccessLog.Action.EXPORT).values_list(
            "actor", "patient", "record_type", "record_id"
        )
    )


@pytest.mark.parametrize("persona", ["patient", "front_desk", "manager"])
def test_the_patient_the_locations_desk_and_a_manager_download_it_and_it_is_logged(
    request, client, url, credit_note, paid_visit, persona
):
    person = request.getfixturevalue(persona)
    user = getattr(person, "user", person)
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="credit-note-{credit_note.display_number}.pdf"'
    )
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert credit_note.display_number in pdf_text(response.content)
    assert _exports() == [
        (user.pk, paid_visit.patient_id, "billing.creditnote", str(credit_note.pk))
    ]


@pytest.mark.parametrize("persona", ["other_patient", "front_desk_elsewhere"])
def test_another_patient_and_another_locations_desk_get_a_404_and_nothing_is_logged(
    request, client, url, persona
):
    person = request.getfixturevalue(persona)
    client.force_login(getattr(person, "user", person))
    assert client.get(url).status_code == 404
    assert _exports() == []


def test_a_practitioner_is_refused_as_for_the_receipt(client, url, practitioner):
    client.force_login(practitioner.user)
    response = client.get(url)
    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()
    assert _exports() == []


def test_someone_not_logged_in_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def test_a_credit_note_that_does_not_exist_is_the_same_404(client, credit_note, patient):
    client.force_login(patient.user)
    for pk in (credit_note.pk + 1000, 10**20):  # the second is beyond any id PostgreSQL holds
        assert client.get(reverse("documents:credit_note", args=[pk])).status_code == 404


def test_it_is_downloaded_not_posted_to(client, url, patient):
    client.force_login(patient.user)
    assert client.post(url).status_code == 405
    assert _exports() == []


def test_the_access_log_calls_it_a_credit_note(client, url, credit_note, patient, manager):
    client.force_login(patient.user)
    client.get(url)
    client.force_login(manager)
    page = client.get(reverse("clinic:access_log")).content.decode()
    assert f"Credit note #{credit_note.pk}" in page


# --- Where it is linked --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["patient", "front_desk"])
def test_the_invoice_page_links_each_credit_note_to_its_pdf(
    request, client, url, credit_note, paid_visit, persona
):
    person = request.getfixturevalue(persona)
    client.force_login(getattr(person, "user", person))
    page = client.get(reverse("billing:invoice_detail", args=[paid_visit.pk])).content.decode()
    assert f'<a href="{url}" download>Credit note {credit_note.display_number} (PDF)</a>' in page


def test_the_day_close_links_each_credit_note_to_its_pdf(client, url, credit_note, front_desk):
    client.force_login(front_desk)
    page = client.get(reverse("billing:day_close", args=[credit_note.location.slug]))
    assert f'<a href="{url}" download>{credit_note.display_number}</a>' in page.content.decode()


def test_the_invoice_page_lists_its_credit_notes_in_a_fixed_number_of_queries(
    client, paid_visit, front_desk, django_assert_num_queries
):
    issue_credit_note(paid_visit, amount="1.00", reason=REASON, actor=front_desk)
    address = reverse("billing:invoice_detail", args=[paid_visit.pk])
    client.force_login(front_desk)
    client.get(address)  # warm the session
    queries = _queries(client, address)
    for _ in range(3):
        issue_credit_note(paid_visit, amount="1.00", reason=REASON, actor=front_desk)
    with django_assert_num_queries(queries):
        page = client.get(address).content.decode()
    assert page.count("(PDF)</a> of ") == 4


def test_the_day_close_lists_its_credit_notes_in_a_fixed_number_of_queries(
    billed, client, patient, practitioner, manager, front_desk, django_assert_num_queries
):
    invoices = [an_invoiced_visit(billed, patient, practitioner, hours) for hours in (2, 3.5, 5)]
    waive_fee(invoices[0], actor=manager, reason="Goodwill")
    address = reverse("billing:day_close", args=[billed.location.slug])
    client.force_login(front_desk)
    client.get(address)  # warm the session
    queries = _queries(client, address)
    for invoice in invoices[1:]:
        waive_fee(invoice, actor=manager, reason="Goodwill")
    with django_assert_num_queries(queries):
        page = client.get(address).content.decode()
    assert page.count(">Credit note <a href=") == 3


def _queries(client, address: str) -> int:
    """How many queries opening `address` takes now."""
    with CaptureQueriesContext(connection) as context:
        client.get(address)
    return len(context.captured_queries)
