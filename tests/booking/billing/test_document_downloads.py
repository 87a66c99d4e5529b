"""Who may download receipts, superbills, credit notes and year-end statements, and how: patients
their own, the front desk (their locations) and managers any they may see, practitioners none;
another patient's invoice is a 404; every download is an attachment no cache keeps, written to
the access log as an export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking.billing.payments import issue_credit_note
from clinic.models import AccessLog
from tests import access_matrix as matrix
from tests.access_matrix import ANONYMOUS, DESK, PATIENT, ROLES, Page
from tests.booking.billing.conftest import pdf_text

pytestmark = pytest.mark.django_db

MATRIX = matrix.Matrix(
    pages={
        "documents:invoice_receipt": Page(PATIENT | DESK),
        "documents:invoice_superbill": Page(PATIENT | DESK),
        "documents:credit_note": Page(PATIENT | DESK),
        "documents:my_statement": Page(PATIENT),
        "documents:patient_statement": Page(DESK),
    },
)


@pytest.fixture
def us_invoice(paid_visit):
    """`paid_visit` at a location that issues superbills (it has an EIN)."""
    location = paid_visit.location
    location.tax_id = "52-1234567"
    location.save()
    return paid_visit


@pytest.fixture
def urls(us_invoice, front_desk):
    year = us_invoice.issued_on.year
    note = issue_credit_note(us_invoice, amount="5.00", reason="Goodwill", actor=front_desk)
    return {
        "documents:invoice_receipt": reverse("documents:invoice_receipt", args=[us_invoice.pk]),
        "documents:invoice_superbill": reverse("documents:invoice_superbill", args=[us_invoice.pk]),
        "documents:credit_note": reverse("documents:credit_note", args=[note.pk]),
        "documents:my_statement": reverse("documents:my_statement", args=[year]),
        "documents:patient_statement": reverse(
            "documents:patient_statement", args=[us_invoice.patient_id, year]
        ),
    }


def test_every_document_is_in_the_access_table():
    assert MATRIX.url_names() == set(MATRIX.pages)


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_each_role_is_allowed_or_refused(client, request, address, name, visitor, answer):
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


@pytest.mark.parametrize("name", sorted(MATRIX.pages))
def test_a_wrong_method_is_refused(client, request, address, name):
    matrix.check_wrong_method(MATRIX, client, request, address, name, "POST")


@pytest.mark.parametrize("name", ["documents:invoice_receipt", "documents:invoice_superbill"])
def test_another_patients_invoice_is_a_404(client, urls, other_patient, name):
    client.force_login(other_patient.user)
    assert client.get(urls[name]).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


@pytest.mark.parametrize(
    "name",
    ["documents:invoice_receipt", "documents:invoice_superbill", "documents:patient_statement"],
)
def test_front_desk_of_another_location_gets_a_404(client, urls, front_desk_elsewhere, name):
    client.force_login(front_desk_elsewhere)
    assert client.get(urls[name]).status_code == 404


def test_another_patients_statement_shows_only_their_own_payments(
    client, urls, other_patient, us_invoice
):
    client.force_login(other_patient.user)
    response = client.get(urls["documents:my_statement"])
    text = pdf_text(response.content)
    assert other_patient.full_name in text
    assert us_invoice.display_number not in text and us_invoice.patient.full_name not in text


def test_a_receipt_downloads_as_an_uncached_attachment_and_is_logged(
    client, urls, patient, us_invoice
):
    client.force_login(patient.user)
    response = client.get(urls["documents:invoice_receipt"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{us_invoice.display_number}.pdf"'
    )
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (entry.actor, entry.patient, entry.record_type, entry.record_id) == (
        patient.user,
        patient,
        "billing.invoice",
        str(us_invoice.pk),
    )


def test_superbill_and_statement_downloads_are_logged(client, urls, front_desk, us_invoice):
    client.force_login(front_desk)
    assert client.get(urls["documents:invoice_superbill"]).status_code == 200
    response = client.get(urls["documents:patient_statement"])
    assert response["Content-Disposition"].startswith('attachment; filename="statement-')
    logged = set(
        AccessLog.objects.filter(action=AccessLog.Action.EXPORT, actor=front_desk).values_list(
            "record_type", "record_id"
        )
    )
    year = us_invoice.issued_on.year
    assert logged == {
        ("billing.superbill", str(us_invoice.pk)),
        ("billing.statement", f"{us_invoice.patient_id}:{year}"),
    }


def test_no_superbill_where_the_location_has_no_ein(client, paid_visit, patient):
    client.force_login(patient.user)
    url = reverse("documents:invoice_superbill", args=[paid_visit.pk])
    assert client.get(url).status_code == 404
    page = client.get(reverse("billing:invoice_detail", args=[paid_visit.pk])).content.decode()
    assert "Receipt for insurers (PDF)" in page and "Superbill" not in page


@pytest.mark.parametrize("year", [1999, 2019, 2100])
def test_a_statement_of_a_year_out_of_range_is_a_404(client, patient, paid_visit, year):
    client.force_login(patient.user)
    assert client.get(reverse("documents:my_statement", args=[year])).status_code == 404


def test_next_years_statement_is_a_404_on_new_years_eve(client, patient, paid_visit, time_machine):
    # 21:00 on 31 December at the clinic: the server's UTC year has already turned.
    zone = paid_visit.location.zone
    eve = dt.datetime(paid_visit.location.today().year, 12, 31, 21, tzinfo=zone)
    time_machine.move_to(eve, tick=True)
    client.force_login(patient.user)
    assert client.get(reverse("documents:my_statement", args=[eve.year + 1])).status_code == 404


def test_the_pages_link_to_the_documents(client, urls, patient, front_desk, practitioner):
    client.force_login(patient.user)
    mine = client.get(reverse("billing:my_invoices")).content.decode()
    assert urls["documents:my_statement"] in mine
    client.force_login(front_desk)
    account_url = reverse("billing:patient_account", args=[patient.pk])
    account = client.get(account_url).content.decode()
    assert urls["documents:patient_statement"] in account
    client.force_login(practitioner.user)
    assert "statements" not in client.get(account_url).content.decode()


def test_the_invoice_page_links_to_receipt_and_superbill(client, urls, us_invoice, front_desk):
    client.force_login(front_desk)
    page = client.get(reverse("billing:invoice_detail", args=[us_invoice.pk])).content.decode()
    assert urls["documents:invoice_receipt"] in page
    assert urls["documents:invoice_superbill"] in page


def test_another_locations_desk_is_offered_no_statement_of_payments_made_elsewhere(
    client, urls, patient, other_location, front_desk_elsewhere
):
    """The patient is registered at both locations and paid at Leaside only: Rockville's desk
    opens their account, whose statements cover Rockville's invoices; a link to the year would
    download an empty statement, and tell that the patient paid something elsewhere that year."""
    patient.locations.add(other_location)
    client.force_login(front_desk_elsewhere)
    account = client.get(reverse("billing:patient_account", args=[patient.pk]))
    assert account.status_code == 200
    assert urls["documents:patient_statement"] not in account.content.decode()
