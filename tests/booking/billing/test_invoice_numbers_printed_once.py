"""An invoice's number, as printed ('LEA-2027-0042'), names one invoice for good: each location
prints its own prefix (two locations whose names begin alike, Leaside and Leaside East, do not
print the same numbers), the prefix is kept on the invoice when it is issued (renaming the
location's address, its slug, changes nothing already issued), and a location's prefix, like its
currency, is fixed once it has issued an invoice. PostgreSQL holds each of these."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse

from booking.billing import payments
from booking.billing import world as billing_world
from booking.billing.models import CreditNote, Invoice, LocationBilling
from clinic.models import Location
from tests.booking.billing.conftest import an_invoiced_visit
from tests.booking.factories import a_clinic
from tests.factories import LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaside_east(billed):
    """A second location whose slug begins as Leaside's does, billing from today."""
    place = LocationFactory(name="Leaside East", slug="leaside-east", time_zone="America/Toronto")
    clinic = a_clinic(location=place)
    billing_world.terms(place, currency="CAD")
    billing_world.fee(place, clinic.assessment, "120.00")
    return clinic


def test_two_locations_whose_names_begin_alike_print_different_numbers(
    billed, leaside_east, patient, practitioner
):
    assert billed.location.slug == "leaside"
    here = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    there = an_invoiced_visit(
        leaside_east, PatientFactory(), leaside_east.practitioner, hours_ago=2
    )
    assert (here.number, there.number) == (1, 1)
    assert here.display_number == f"LEA-{here.year}-0001"
    assert there.display_number != here.display_number
    assert there.display_number == f"{there.location.billing.invoice_prefix}-{there.year}-0001"


def test_a_renamed_location_keeps_the_numbers_it_printed(invoice, front_desk):
    note = payments.issue_credit_note(invoice, amount="20.00", reason="Wrong", actor=front_desk)
    printed, credit = invoice.display_number, str(note)
    Location.objects.filter(pk=invoice.location_id).update(slug="bayview")
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (invoice.display_number, str(CreditNote.objects.get(pk=note.pk))) == (printed, credit)


def test_an_invoice_prints_its_locations_prefix(invoice):
    row = Invoice.objects.values().get(pk=invoice.pk)
    row.pop("id")
    row |= {"number": 2, "number_prefix": "ZZZ"}
    with pytest.raises(IntegrityError, match="prefix of its location"):
        with transaction.atomic():
            Invoice.objects.create(**row)


def test_a_prefix_is_fixed_once_the_location_has_invoiced(invoice, login, manager):
    terms = invoice.location.billing
    with pytest.raises(DatabaseError, match="fixed once it has issued"):
        with transaction.atomic():
            LocationBilling.objects.filter(pk=terms.pk).update(invoice_prefix="LSD")
    with pytest.raises(DatabaseError, match="fixed once it has issued"):
        with transaction.atomic():
            LocationBilling.objects.filter(pk=terms.pk).update(currency="USD")
    with pytest.raises(DatabaseError, match="fixed once it has issued"):
        with transaction.atomic():
            LocationBilling.objects.filter(pk=terms.pk).delete()
    page = login(manager).get(reverse("admin:billing_locationbilling_change", args=[terms.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="invoice_prefix"' not in text and 'name="currency"' not in text
    assert 'name="tax_label"' in text
    delete = reverse("admin:billing_locationbilling_delete", args=[terms.pk])
    assert login(manager).post(delete, {"post": "yes"}).status_code == 403
    assert LocationBilling.objects.filter(pk=terms.pk).exists()


def test_a_manager_sets_the_prefix_of_a_new_location_and_a_taken_one_is_refused(
    billed, login, manager
):
    place = LocationFactory(name="Danforth", slug="danforth", time_zone="America/Toronto")
    fields = {
        "location": place.pk,
        "invoice_prefix": "LEA",
        "currency": "CAD",
        "tax_rate": "0",
        "tax_exempt": "on",
        "tax_label": "HST exempt",
        "tax_number": "",
    }
    browser = login(manager)
    taken = browser.post(reverse("admin:billing_locationbilling_add"), fields)
    assert taken.status_code == 200 and "errorlist" in taken.content.decode()
    lowercase = browser.post(
        reverse("admin:billing_locationbilling_add"), fields | {"invoice_prefix": "dan"}
    )
    assert lowercase.status_code == 200 and "capital letters" in lowercase.content.decode()
    done = browser.post(
        reverse("admin:billing_locationbilling_add"), fields | {"invoice_prefix": "DAN"}
    )
    assert done.status_code == 302
    assert LocationBilling.objects.get(location=place).invoice_prefix == "DAN"


@pytest.mark.django_db(transaction=True)
def test_migrating_keeps_the_numbers_printed_and_tells_apart_those_printed_alike(
    billed, leaside_east, patient, practitioner, front_desk
):
    """Before billing 0008 both locations printed LEA-…: Leaside, which invoiced first, keeps
    its numbers; Leaside East's take a digit. A location that has not invoiced yet gets the
    next free prefix."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    here = an_invoiced_visit(billed, patient, practitioner, hours_ago=30)
    payments.issue_credit_note(here, amount="20.00", reason="Wrong length", actor=front_desk)
    there = an_invoiced_visit(
        leaside_east, PatientFactory(), leaside_east.practitioner, hours_ago=2
    )
    quiet = LocationFactory(name="Leaside North", slug="leaside-north")
    billing_world.terms(quiet, currency="CAD")
    executor = MigrationExecutor(connection)
    executor.migrate([("billing", "0007_money_held_by_the_database")])
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("billing", "0008_invoice_numbers_printed_once")])
        apps = executor.loader.project_state(
            [("billing", "0008_invoice_numbers_printed_once")]
        ).apps
        prefixes = dict(
            apps.get_model("billing", "LocationBilling").objects.values_list(
                "location__slug", "invoice_prefix"
            )
        )
        printed = dict(
            apps.get_model("billing", "Invoice").objects.values_list("pk", "number_prefix")
        )
        credit = apps.get_model("billing", "CreditNote").objects.get()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert prefixes == {"leaside": "LEA", "leaside-east": "LEA2", "leaside-north": "LEA3"}
    assert printed == {here.pk: "LEA", there.pk: "LEA2"}
    assert credit.number_prefix == "LEA"
