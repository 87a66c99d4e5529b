"""Who may open each money page: every URL in the `billing` namespace is listed here. Invoices
name the service, so they are health information: front desk (their locations) and managers see
them and take payments, patients their own, practitioners their patients' balance only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.billing import world as billing_world
from booking.models import Status
from tests import access_matrix as matrix
from tests.access_matrix import ANONYMOUS, DESK, MANAGER, PATIENT, POST, ROLES, STAFF, Page
from tests.booking.billing.conftest import an_invoiced_visit
from tests.booking.factories import a_clinic, a_course_record, an_appointment
from tests.worlds import built_once

pytestmark = pytest.mark.django_db

globals().update(matrix.world_fixtures())

MATRIX = matrix.Matrix(
    pages={
        "billing:my_invoices": Page(PATIENT),
        "billing:invoice_detail": Page(PATIENT | DESK),
        "billing:invoice_pay": Page(DESK, POST),
        "billing:invoice_refund": Page(DESK, POST),
        "billing:invoice_move_credit": Page(DESK, POST),
        "billing:invoice_waive": Page(MANAGER, POST),
        "billing:appointment_checkout": Page(DESK, POST),
        "billing:patient_account": Page(STAFF),
        "billing:course_pay_ahead": Page(DESK, POST),
        "billing:course_end_early": Page(DESK, POST),
        "billing:day_close": Page(DESK),
        "billing:day_close_csv": Page(DESK),
    },
    visit="GET",
)
PAGES = MATRIX.pages
# Pages about one location's invoices or patients: staff of another location get a 404.
LOCATION_BOUND = {
    "billing:invoice_detail",
    "billing:invoice_pay",
    "billing:invoice_refund",
    "billing:invoice_move_credit",
    "billing:appointment_checkout",
    "billing:patient_account",
    "billing:course_pay_ahead",
    "billing:course_end_early",
    "billing:day_close",
    "billing:day_close_csv",
}


def test_every_billing_page_is_in_the_access_table():
    assert MATRIX.url_names() == set(PAGES)


@pytest.fixture(scope="module")
def urls(world, django_db_blocker):
    with built_once(django_db_blocker):
        clinic = a_clinic(location=world.location, practitioner=world.practitioner)
        billing_world.terms(clinic.location, currency="CAD")
        billing_world.fee(clinic.location, clinic.assessment, "120.00")
        invoice = an_invoiced_visit(clinic, world.patient, world.practitioner, hours_ago=3)
        waiting = an_appointment(
            clinic,
            world.patient,
            timezone.now() - dt.timedelta(hours=1),
            status=Status.CHECKED_IN,
            room=clinic.rooms[1],
        )
        course = a_course_record(world.patient, world.practitioner)
        yield {
            **{
                f"billing:course_{page}": reverse(f"billing:course_{page}", args=[course.pk])
                for page in ("pay_ahead", "end_early")
            },
            "billing:my_invoices": reverse("billing:my_invoices"),
            "billing:day_close": reverse("billing:day_close", args=[clinic.location.slug]),
            "billing:day_close_csv": reverse("billing:day_close_csv", args=[clinic.location.slug]),
            **{
                f"billing:invoice_{page}": reverse(f"billing:invoice_{page}", args=[invoice.pk])
                for page in ("detail", "pay", "refund", "move_credit", "waive")
            },
            "billing:appointment_checkout": reverse(
                "billing:appointment_checkout", args=[waiting.pk]
            ),
            "billing:patient_account": reverse("billing:patient_account", args=[world.patient.pk]),
        }


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_each_role_is_allowed_or_refused(client, request, address, name, visitor, answer):
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


def test_another_patient_gets_404_for_an_invoice_not_theirs(client, urls, other_patient):
    client.force_login(other_patient.user)
    assert client.get(urls["billing:invoice_detail"]).status_code == 404


@pytest.mark.parametrize("name", sorted(LOCATION_BOUND))
def test_front_desk_of_another_location_gets_404(client, urls, front_desk_elsewhere, name):
    response = matrix.open_as(client, front_desk_elsewhere, PAGES[name], urls[name])
    assert response.status_code == 404


def test_the_desk_of_another_location_lists_only_its_own_invoices_on_the_account(
    client, urls, world, other_location, front_desk_elsewhere, manager
):
    """The patient is registered at both locations, so both desks open their account; the
    Leaside invoice (its number, its service, its amounts) is listed to Leaside's desk and
    managers, not to Rockville's, which cannot open it either."""
    from booking.billing.models import Invoice

    world.patient.locations.add(other_location)
    number = Invoice.objects.get(patient=world.patient).display_number
    client.force_login(front_desk_elsewhere)
    page = client.get(urls["billing:patient_account"]).content.decode()
    assert number not in page and "Initial assessment" not in page
    client.force_login(manager)
    assert number in client.get(urls["billing:patient_account"]).content.decode()


def test_a_practitioner_who_never_saw_the_patient_does_not_see_their_balance(
    client, urls, location
):
    from tests.factories import certified_practitioner

    stranger = certified_practitioner(locations=[location])
    client.force_login(stranger.user)
    assert client.get(urls["billing:patient_account"]).status_code == 404


def test_a_practitioner_sees_the_balance_but_not_the_invoices(client, urls, practitioner):
    client.force_login(practitioner.user)
    page = client.get(urls["billing:patient_account"]).content.decode()
    assert "120.00 CAD" in page and "Initial assessment" not in page


@pytest.mark.parametrize(
    "name", sorted(name for name, page in PAGES.items() if page.allowed != matrix.PUBLIC)
)
def test_a_wrong_method_is_refused(client, request, address, name):
    matrix.check_wrong_method(MATRIX, client, request, address, name, "PUT")
