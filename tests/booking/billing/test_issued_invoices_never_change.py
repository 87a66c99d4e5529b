"""An issued invoice never changes: PostgreSQL refuses UPDATE and DELETE of invoices, their lines
and credit notes, and a line added later; corrections are credit notes that name the invoice, and
a manager's waiver is one, recorded in the history and the access log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from booking.billing import payments
from booking.billing.ledger import balance_of
from booking.billing.models import Invoice, InvoiceEvent
from clinic.models import AccessLog

pytestmark = pytest.mark.django_db


def _sql(statement: str, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_invoice SET total = 1, subtotal = 1 WHERE id = %s",
        "UPDATE billing_invoice SET patient_id = patient_id WHERE id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "UPDATE billing_invoiceline SET description = 'Other' WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceevent WHERE invoice_id = %s",
    ],
)
def test_the_database_refuses_to_change_an_issued_invoice(invoice, statement):
    with pytest.raises(DatabaseError, match="issued and never change"):
        _sql(statement, invoice.pk)
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("120.00")


def test_a_line_added_after_the_invoice_was_issued_is_refused(invoice):
    line = invoice.lines.get()
    with pytest.raises(IntegrityError, match="lines add up to 220.00 but it was issued for 120.00"):
        _sql(
            "INSERT INTO billing_invoiceline (invoice_id, description, service_id, "
            "date_of_service, practitioner_id, quantity, unit_amount, amount) "
            "VALUES (%s, 'Extra', %s, %s, %s, 1, 100, 100)",
            invoice.pk,
            line.service_id,
            line.date_of_service,
            line.practitioner_id,
        )


def test_a_correction_is_a_credit_note_that_names_the_invoice(invoice, front_desk):
    note = payments.issue_credit_note(
        invoice, amount="20.00", reason="Charged the wrong length", actor=front_desk
    )
    assert (note.invoice, note.number, note.amount) == (invoice, 1, Decimal("20.00"))
    assert balance_of(invoice).balance == Decimal("100.00")
    with pytest.raises(payments.PaymentRefused, match="at most 100.00 CAD"):
        payments.issue_credit_note(invoice, amount="100.01", reason="Again", actor=front_desk)
    with pytest.raises(DatabaseError, match="issued and never change"):
        _sql("UPDATE billing_creditnote SET amount = 1 WHERE id = %s", note.pk)


def test_a_manager_waives_a_fee_with_a_reason_in_the_history_and_the_access_log(invoice, manager):
    note = payments.waive_fee(invoice, actor=manager, reason="Bereavement")
    assert note.amount == Decimal("120.00") and note.reason == "Waived: Bereavement"
    assert balance_of(invoice).balance == Decimal("0.00")
    waived = invoice.events.get(kind=InvoiceEvent.Kind.WAIVED)
    assert (waived.actor, waived.reason, waived.amount) == (
        manager,
        "Bereavement",
        Decimal("120.00"),
    )
    entry = AccessLog.objects.get(record_type="billing.invoice", record_id=str(invoice.pk))
    assert (entry.actor, entry.patient, entry.action) == (manager, invoice.patient, "change")
    with pytest.raises(payments.PaymentRefused, match="Nothing is left to waive"):
        payments.waive_fee(invoice, actor=manager, reason="Twice")


def test_only_a_manager_waives_and_always_says_why(invoice, front_desk, manager):
    with pytest.raises(payments.PaymentRefused, match="Only a manager"):
        payments.waive_fee(invoice, actor=front_desk, reason="Kind")
    with pytest.raises(payments.PaymentRefused, match="Say why"):
        payments.waive_fee(invoice, actor=manager, reason="  ")
    assert not invoice.credit_notes.exists()


def test_a_waived_fee_is_shown_as_credited_in_full_not_as_paid(invoice, manager, client):
    payments.waive_fee(invoice, actor=manager, reason="Bereavement")
    client.force_login(manager)
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Nothing to pay: credited in full" in page
    assert ">Paid</span>" not in page
