"""Billing fixtures: the `clinic` persona with billing terms (CAD, exempt), fees and a policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.billing import world as billing_world
from booking.billing.models import Invoice
from booking.billing.payments import take_payment
from booking.models import Status
from tests.booking.factories import an_appointment


@pytest.fixture
def billed(clinic):
    """`clinic` at Leaside billing in CAD, tax exempt: an assessment 120.00, a 30-minute needling
    session 95.00 (any other length 80.00); 24 hours' notice, a late cancellation 40.00 and a
    no-show 60.00, the first offence waived."""
    billing_world.terms(clinic.location, currency="CAD")
    billing_world.fee(clinic.location, clinic.assessment, "120.00")
    billing_world.fee(clinic.location, clinic.needling, "95.00", minutes=30)
    billing_world.fee(clinic.location, clinic.needling, "80.00")
    billing_world.cancellation_policy(
        clinic.location, late_cancellation_fee="40.00", no_show_fee="60.00"
    )
    return clinic


def an_invoiced_visit(clinic, patient, practitioner, hours_ago: float) -> Invoice:
    """The invoice of `patient`'s assessment at `clinic` `hours_ago` hours ago: checked in,
    then completed by `practitioner`, which is when the visit is invoiced."""
    visit = an_appointment(
        clinic, patient, timezone.now() - dt.timedelta(hours=hours_ago), status=Status.CHECKED_IN
    )
    services.change_status(visit, to=Status.COMPLETED, actor=practitioner.user)
    return Invoice.objects.get(appointment=visit)


def a_missed_visit_fee(clinic, patient, front_desk, *, paid: bool = False) -> Invoice:
    """The 60.00 fee of `patient`'s visit at `clinic` four hours ago, marked missed (a policy
    that charges a first one); paid by card with `paid`."""
    billing_world.cancellation_policy(
        clinic.location, no_show_fee="60.00", first_offence_waived=False
    )
    missed = an_appointment(
        clinic, patient, timezone.now() - dt.timedelta(hours=4), status=Status.CONFIRMED
    )
    services.change_status(missed, to=Status.NO_SHOW, actor=front_desk)
    fee = Invoice.objects.get(appointment=missed)
    if paid:
        take_payment(fee, amount="60.00", method="card", actor=front_desk)
    return fee


@pytest.fixture
def invoice(billed, patient, practitioner):
    """The invoice of the patient's assessment at `billed` two hours ago."""
    return an_invoiced_visit(billed, patient, practitioner, hours_ago=2)


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF, as a reader (or an insurer's scanner) gets it, with runs
    of white space made one space (table cells wrap their text onto several lines)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def registered(billed):
    """`billed` with its practitioner registered with the College of Physiotherapists of
    Ontario."""
    practitioner = billed.practitioner
    practitioner.profession = "physiotherapist"
    practitioner.registration_number = "R14582"
    practitioner.registered_with = "cpo"
    practitioner.save()
    return billed


@pytest.fixture
def paid_visit(registered, patient, front_desk):
    """An assessment an hour and a half ago at `registered`, checked out with 100.00 of its
    120.00 paid by debit."""
    import datetime as dt

    from django.utils import timezone

    from booking.billing.checkout import check_out
    from booking.models import Status
    from tests.booking.factories import an_appointment

    visit = an_appointment(
        registered,
        patient,
        timezone.now() - dt.timedelta(minutes=90),
        status=Status.CHECKED_IN,
    )
    return check_out(visit, actor=front_desk, amount="100.00", method="debit").invoice
