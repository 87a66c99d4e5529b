"""Receipts for insurers, superbills and year-end statements, read back from the PDF: the clinic,
the patient, each service's date and what was done, what was paid, the practitioner's
registration; for a US location the NPI, EIN, place of service, ICD-10-CM and CPT codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.billing import documents, pdf
from booking.billing import world as billing_world
from booking.billing.invoicing import invoice_visit
from booking.billing.models import Invoice
from booking.billing.packages import pay_course_ahead
from booking.billing.payments import refund, take_payment
from booking.billing.receipts import email_receipt
from booking.models import Appointment, Notification, Status
from booking.notifications.rendering import build_message
from clinic.models import Location
from intake.clinical.models import AssessmentNote
from tests.booking.billing.conftest import a_missed_visit_fee, an_invoiced_visit, pdf_text
from tests.booking.factories import a_course
from tests.intake.factories import session_note, sign_note_now, signed_assessment

pytestmark = pytest.mark.django_db

THREE_MUSCLES = [
    {"muscle": "soleus", "side": "right", "needles": 2, "twitch": True},
    {"muscle": "gastrocnemius", "side": "right", "needles": 2, "twitch": False},
    {"muscle": "flexor_digitorum_brevis", "side": "right", "needles": 1, "twitch": True},
]
BOTH_SOLEUS = [
    {"muscle": "soleus", "side": "right", "needles": 2, "twitch": True},
    {"muscle": "soleus", "side": "right", "needles": 1, "twitch": False},
    {"muscle": "soleus", "side": "left", "needles": 2, "twitch": True},
]


def test_a_receipt_names_clinic_patient_service_payment_and_registered_practitioner(
    paid_visit, patient
):
    document = pdf.receipt_pdf(paid_visit)
    assert document.filename == f"receipt-{paid_visit.display_number}.pdf"
    text = pdf_text(document.content)
    location = paid_visit.location
    assert "Receipt for your insurer" in text
    assert "Stride Clinics" in text and location.street_address in text
    assert patient.full_name in text
    assert f"{paid_visit.issued_on:%-d %b %Y}" in text
    assert "Initial assessment (60 min)" in text
    assert "120.00" in text and "Amount paid" in text and "100.00 CAD" in text
    assert "Balance owing: 20.00 CAD" in text
    practitioner = paid_visit.practitioner
    assert f"{practitioner.name}, Physiotherapist" in text
    assert "Registration R14582, College of Physiotherapists of Ontario" in text


def test_a_location_without_an_ein_offers_no_superbill(paid_visit):
    assert not documents.offers_superbill(paid_visit)
    with pytest.raises(documents.NoSuperbill):
        documents.superbill(paid_visit)


@pytest.mark.parametrize(
    ("muscles", "count", "code"), [(THREE_MUSCLES, 3, "20561"), (BOTH_SOLEUS, 2, "20560")]
)
def test_a_superbill_codes_the_diagnosis_and_the_needling_by_muscles_needled(
    registered, patient, front_desk, muscles, count, code
):
    location = registered.location
    location.tax_id = "52-1234567"
    location.save()
    billing_world.terms(location, currency="USD")
    practitioner = registered.practitioner
    practitioner.npi = "1234567893"
    practitioner.registered_with = "md_bpte"
    practitioner.registration_number = "PT23871"
    practitioner.profession = "physical_therapist"
    practitioner.save()
    assessment = signed_assessment(
        patient, practitioner, diagnosis="plantar_fasciitis", diagnosis_side="both"
    )
    note = sign_note_now(session_note(assessment, 1, location=location, muscles_needled=muscles))
    visit = Appointment.objects.get(pk=note.appointment_id)
    assert visit.status == Status.COMPLETED
    invoice = invoice_visit(visit, actor=front_desk)
    take_payment(invoice, amount=invoice.total, method="card", actor=front_desk)

    document = pdf.superbill_pdf(invoice)
    assert document.filename == f"superbill-{invoice.display_number}.pdf"
    text = pdf_text(document.content)
    assert "Superbill" in text and patient.full_name in text
    assert "NPI 1234567893" in text
    assert "52-1234567" in text and "11 (office)" in text
    assert "M72.2" in text and "Plantar fasciitis, both" in text
    assert code in text and f"{count} muscles needled" in text
    assert "PT23871, Maryland Board of Physical Therapy Examiners" in text
    assert f"{visit.local_starts_at:%m/%d/%Y}" in text
    assert f"{invoice.total} USD" in text


def test_another_diagnosis_is_written_out_for_the_practitioner_to_code(patient, practitioner):
    assessment = signed_assessment(
        patient, practitioner, diagnosis="other", diagnosis_other="Heel spur"
    )
    assert documents.diagnosis_codes(assessment) == [("", "Heel spur")]
    assert documents.diagnosis_codes(None) == []


@pytest.mark.parametrize(
    ("kind", "offered"),
    [("visit", True), ("course_package", True), ("no_show", False), ("late_cancellation", False)],
)
def test_superbills_are_for_care_given_at_a_location_with_an_ein(kind, offered):
    us_office = Location(name="Rockville", tax_id="52-1234567")
    assert documents.offers_superbill(Invoice(kind=kind, location=us_office)) is offered


def test_a_statements_file_is_named_for_the_year_and_the_patient():
    statement = documents.YearEndStatement(
        year=2027,
        clinic_name="Stride Clinics",
        patient_name="Zoë O'Brien",
        patient_born=None,
        rows=[],
        totals={},
        currencies={},
    )
    assert statement.filename == "statement-2027-zoe-obrien.pdf"


def test_needling_codes_by_muscle_count():
    assert [documents.needling_code(n) for n in (0, 1, 2, 3, 7)] == [
        "",
        "20560",
        "20560",
        "20561",
        "20561",
    ]


def test_a_year_end_statement_lists_the_years_payments_less_refunds(
    paid_visit, patient, front_desk
):
    year = paid_visit.issued_on.year
    refund(paid_visit, amount="10.00", method="debit", actor=front_desk, reason="Overcharged")
    statement = documents.year_end_statement(patient, year)
    assert statement.totals == {"CAD": Decimal("90.00")}
    text = pdf_text(pdf.statement_pdf(patient, year).content)
    assert f"Year-end statement {year}" in text and patient.full_name in text
    assert paid_visit.display_number in text and "Initial assessment (60 min)" in text
    assert "Total paid in" in text and "90.00 CAD" in text
    assert "(refund)" in text
    empty = pdf_text(pdf.statement_pdf(patient, year - 1).content)
    assert f"No payments were received in {year - 1}." in empty


def test_the_receipt_email_at_check_out_carries_the_receipt_pdf(paid_visit, patient):
    email = Notification.objects.get(kind=Notification.Kind.RECEIPT, patient=patient)
    message = build_message(email, to=patient.email, now=timezone.now())
    (attachment,) = [
        part for part in message.attachments if part.get_content_type() == "application/pdf"
    ]
    assert attachment.get_filename() == f"receipt-{paid_visit.display_number}.pdf"
    text = pdf_text(attachment.get_payload(decode=True))
    assert paid_visit.display_number in text and "Registration R14582" in text
    assert "The receipt for your insurer is attached as a PDF." in message.body


def test_a_receipt_email_queued_before_it_named_the_invoice_goes_without_the_pdf(
    paid_visit, patient
):
    email = Notification.objects.get(kind=Notification.Kind.RECEIPT, patient=patient)
    del email.context["invoice"]["id"]
    message = build_message(email, to=patient.email, now=timezone.now())
    assert not [p for p in message.attachments if p.get_content_type() == "application/pdf"]
    assert "attached as a PDF" not in message.body


def test_a_course_paid_ahead_lists_each_session_given_with_its_code(
    billed, registered, patient, front_desk, monkeypatch
):
    monkeypatch.setattr("booking.gates.consent_is_current", lambda patient: True)
    location = billed.location
    location.tax_id = "52-1234567"
    location.save()
    first = timezone.now() - dt.timedelta(days=21)
    course = a_course(billed, patient, statuses=[Status.CONFIRMED] * 4, first_start=first)
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    one, two, *_ = course.appointments.order_by("session_number")
    for session in (one, two):
        services.change_status(
            session, to=Status.CHECKED_IN, actor=front_desk, now=session.starts_at
        )
        services.change_status(session, to=Status.COMPLETED, actor=front_desk, now=session.ends_at)
    assessment = AssessmentNote.objects.get(pk=course.assessment_id)
    sign_note_now(session_note(assessment, 1, appointment_id=one.pk, muscles_needled=THREE_MUSCLES))

    receipt = pdf_text(pdf.receipt_pdf(package).content)
    assert "Sessions given" in receipt
    for session in (one, two):
        assert f"{session.local_starts_at:%-d %b %Y}" in receipt
    assert "session 1 of 4" in receipt and "session 2 of 4" in receipt

    superbill = documents.superbill(package)
    assert [(line.procedure_code, line.units) for line in superbill.procedures] == [
        ("20561", 1),
        ("", 0),
    ]
    assert superbill.procedures_total == Decimal("190.00")
    text = pdf_text(pdf.superbill_pdf(package).content)
    assert "M72.2" in text and "20561" in text
    assert "Total charges 190.00 CAD" in text and "the sessions given so far are listed" in text


def test_a_superbill_names_each_provider_once():
    okafor = documents.Provider(
        "Daniel Okafor", "", "Physical therapist", "PT1", "MD", "1234567893"
    )
    kim = documents.Provider("Laura Kim", "", "Physical therapist", "PT2", "MD", "1987654328")
    line = documents.ServiceLine(dt.date(2027, 6, 1), "Dry-needling session", okafor, Decimal("95"))
    superbill = documents.Superbill(
        number="ROC-2027-0001",
        issued_on=dt.date(2027, 6, 1),
        currency="USD",
        clinic=documents.Clinic("Stride Clinics", "Rockville", (), "", ""),
        patient_name="Marcus Reid",
        patient_born=None,
        lines=[line],
        payments=[],
        tax_label="",
        tax=Decimal("0"),
        total=Decimal("285"),
        figures=None,
        sessions_given=[line, documents.replace(line, provider=kim), line],
        credit_notes=[],
    )
    assert superbill.providers == [okafor, kim]
    assert superbill.procedures_total == Decimal("285")
    text = pdf_text(pdf.render_pdf("billing/documents/superbill.html", {"doc": superbill}))
    assert "Providers" in text and "NPI 1987654328" in text and "Laura Kim, NPI 1987654328" in text


def test_what_the_insurer_paid_directly_is_not_on_the_patients_statement(
    paid_visit, patient, front_desk
):
    """The statement is for the patient's medical-expense claim: an insurer's direct payment
    (and any refund of it to the insurer) is not money the patient spent, and claiming it would
    overstate what they can deduct."""
    year = paid_visit.issued_on.year
    take_payment(paid_visit, amount="20.00", method="insurer", actor=front_desk)
    refund(paid_visit, amount="5.00", method="insurer", actor=front_desk, reason="Overbilled")
    statement = documents.year_end_statement(patient, year)
    assert statement.totals == {"CAD": Decimal("100.00")}
    assert [row.method for row in statement.rows] == ["Debit"]
    text = pdf_text(pdf.statement_pdf(patient, year).content)
    assert "100.00 CAD" in text and "Insurer paid directly" not in text
    assert "paid directly by an insurer are not included" in text


def test_a_receipt_says_apart_what_the_patient_paid_and_what_their_insurer_paid_directly(
    paid_visit, front_desk
):
    """The patient sends the receipt to their insurer to be reimbursed: the 20.00 the insurer
    already paid the clinic is not 'paid by you', or it would be reimbursed a second time."""
    take_payment(paid_visit, amount="20.00", method="insurer", actor=front_desk)
    receipt = documents.receipt(paid_visit)
    assert (receipt.amount_paid, receipt.paid_by_insurer) == (Decimal("100.00"), Decimal("20.00"))
    text = pdf_text(pdf.receipt_pdf(paid_visit).content)
    assert "Amount paid by you 100.00 CAD" in text
    assert "Paid directly by your insurer 20.00 CAD" in text
    assert "Balance owing: 0.00 CAD" in text


def test_a_superbill_of_a_taxed_visit_adds_up(registered, patient, front_desk):
    """Where the location charges sales tax, the superbill lists the procedures before tax; the
    tax and the total the patient paid follow them, or the insurer reads charges of 120.00 paid
    with 127.20 and a balance of nothing."""
    location = registered.location
    location.tax_id = "52-1234567"
    location.save()
    billing_world.terms(
        location, currency="USD", tax_exempt=False, tax_rate="0.06", tax_label="Sales tax 6%"
    )
    invoice = an_invoiced_visit(registered, patient, registered.practitioner, hours_ago=2)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("120.00"),
        Decimal("7.20"),
        Decimal("127.20"),
    )
    take_payment(invoice, amount=invoice.total, method="card", actor=front_desk)
    text = pdf_text(pdf.superbill_pdf(invoice).content)
    assert "Total charges 120.00 USD" in text
    assert "Sales tax 6% 7.20" in text
    assert "Total 127.20 USD" in text
    assert "Amount paid by you 127.20 USD" in text


def test_the_receipt_of_a_missed_visit_fee_is_no_receipt_for_treatment(
    registered, patient, front_desk, login
):
    """A missed visit is no care given: its fee's receipt proves the payment, but is not
    headed for the insurer nor carries the practitioner's registration (which would let it be
    claimed as treatment), and says why."""
    fee = a_missed_visit_fee(registered, patient, front_desk, paid=True)
    text = pdf_text(pdf.receipt_pdf(fee).content)
    assert "Missed visit" in text and "60.00" in text
    assert "for your insurer" not in text and "Registration R14582" not in text
    assert "not for care given" in text
    page = login(front_desk).get(reverse("billing:invoice_detail", args=[fee.pk]))
    assert "Receipt (PDF)" in page.content.decode()
    assert "for insurers" not in page.content.decode()
    email = build_message(
        email_receipt(fee, now=timezone.now()), to=patient.email, now=timezone.now()
    )
    assert "The receipt is attached as a PDF." in email.body and "insurer" not in email.body


def test_a_missed_visit_fee_is_on_the_statement_apart_from_the_medical_expenses(
    paid_visit, registered, patient, front_desk
):
    """A missed visit's fee paid is no payment for care: it is listed, so that every payment of
    the year is accounted for, but apart and outside the total a tax return may claim."""
    fee = a_missed_visit_fee(registered, patient, front_desk, paid=True)
    year = paid_visit.issued_on.year
    statement = documents.year_end_statement(patient, year)
    assert statement.totals == {"CAD": Decimal("100.00")}
    assert [row.invoice for row in statement.rows] == [paid_visit.display_number]
    assert statement.fee_totals == {"CAD": Decimal("60.00")}
    text = pdf_text(pdf.statement_pdf(patient, year).content)
    assert f"Total paid in {year} 100.00 CAD" in text
    assert f"Fees paid in {year} 60.00 CAD" in text
    assert fee.display_number in text and "not medical expenses" in text
