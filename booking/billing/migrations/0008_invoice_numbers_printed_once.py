"""An invoice's printed number names one invoice for good.

It was the first three letters of the location's slug, read when the number was shown: two
locations whose slugs begin alike (leaside, leaside-east) printed the same numbers, and editing a
slug changed the numbers on every invoice already issued. Now each location's billing terms carry
an invoice prefix of its own (unique), and each invoice and credit note keeps the prefix it was
issued with. A prefix, like the location's currency, is fixed once the location has issued an
invoice (a trigger, and the admin shows both read-only then).

The prefix given to a location that has one is what its invoices printed so far (LEA for
leaside); only a location whose letters another already printed gets a digit (LEA2), and its
invoices' numbers with it: they were ambiguous until now. Filling the new column of issued rows
is the one change they ever get, with their triggers paused in this transaction.
"""

import django.core.validators
from django.db import migrations, models

PREFIX = r"^[A-Z][A-Z0-9]{1,5}$"


def printed_prefix(slug: str) -> str:
    """What `Invoice.display_number` printed until now (the slug's first three characters), as
    letters and digits."""
    letters = "".join(c for c in slug[:3].upper() if c.isascii() and c.isalnum())
    return (letters if letters[:1].isalpha() else f"L{letters}")[:3].ljust(2, "X")


def give_prefixes(apps, schema_editor):
    Location = apps.get_model("clinic", "Location")
    LocationBilling = apps.get_model("billing", "LocationBilling")
    Invoice = apps.get_model("billing", "Invoice")
    CreditNote = apps.get_model("billing", "CreditNote")
    billed = set(LocationBilling.objects.values_list("location_id", flat=True))
    invoiced = set(Invoice.objects.values_list("location_id", flat=True))
    taken: set[str] = set()
    # Locations with invoices first, the oldest first: they keep what they printed.
    order = sorted(billed | invoiced, key=lambda pk: (pk not in invoiced, pk))
    slugs = dict(Location.objects.filter(pk__in=order).values_list("pk", "slug"))
    for location_id in order:
        base = printed_prefix(slugs[location_id])
        prefix = next(p for p in [base] + [f"{base}{n}" for n in range(2, 1000)] if p not in taken)
        taken.add(prefix)
        LocationBilling.objects.filter(location_id=location_id).update(invoice_prefix=prefix)
        Invoice.objects.filter(location_id=location_id).update(number_prefix=prefix)
        CreditNote.objects.filter(location_id=location_id).update(number_prefix=prefix)


PAUSE = """
ALTER TABLE billing_invoice DISABLE TRIGGER billing_invoice_issued;
ALTER TABLE billing_creditnote DISABLE TRIGGER billing_creditnote_issued;
"""
RESUME = """
ALTER TABLE billing_invoice ENABLE TRIGGER billing_invoice_issued;
ALTER TABLE billing_creditnote ENABLE TRIGGER billing_creditnote_issued;
"""

FIXED = """
CREATE FUNCTION billing_invoice_prints_its_prefix() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number_prefix IS DISTINCT FROM (
        SELECT invoice_prefix FROM billing_locationbilling WHERE location_id = NEW.location_id)
    THEN
        RAISE EXCEPTION 'invoice % must print the prefix of its location''s billing terms, not %',
            NEW.number, NEW.number_prefix USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_invoice_prints_its_prefix BEFORE INSERT ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_prints_its_prefix();

CREATE FUNCTION billing_creditnote_prints_its_prefix() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number_prefix IS DISTINCT FROM (
        SELECT number_prefix FROM billing_invoice WHERE id = NEW.invoice_id) THEN
        RAISE EXCEPTION 'credit note % must print the prefix of its invoice, not %',
            NEW.number, NEW.number_prefix USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_creditnote_prints_its_prefix BEFORE INSERT ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_creditnote_prints_its_prefix();

CREATE FUNCTION billing_terms_fixed_once_invoiced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM billing_invoice WHERE location_id = OLD.location_id) AND (
        TG_OP = 'DELETE' OR NEW.location_id <> OLD.location_id
        OR NEW.invoice_prefix <> OLD.invoice_prefix OR NEW.currency <> OLD.currency) THEN
        RAISE EXCEPTION 'a location''s invoice prefix and currency are fixed once it has issued '
            'an invoice: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER billing_terms_fixed_once_invoiced BEFORE UPDATE OR DELETE ON billing_locationbilling
    FOR EACH ROW EXECUTE FUNCTION billing_terms_fixed_once_invoiced();
"""

UNFIXED = """
DROP TRIGGER billing_terms_fixed_once_invoiced ON billing_locationbilling;
DROP FUNCTION billing_terms_fixed_once_invoiced();
DROP TRIGGER billing_creditnote_prints_its_prefix ON billing_creditnote;
DROP FUNCTION billing_creditnote_prints_its_prefix();
DROP TRIGGER billing_invoice_prints_its_prefix ON billing_invoice;
DROP FUNCTION billing_invoice_prints_its_prefix();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_money_held_by_the_database"),
        ("clinic", "0012_user_role_api_client"),
    ]

    operations = [
        migrations.AddField(
            model_name="locationbilling",
            name="invoice_prefix",
            field=models.CharField(max_length=6, null=True, verbose_name="invoice number prefix"),
        ),
        migrations.AddField(
            model_name="invoice",
            name="number_prefix",
            field=models.CharField(default="", max_length=6),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="creditnote",
            name="number_prefix",
            field=models.CharField(default="", max_length=6),
            preserve_default=False,
        ),
        migrations.RunSQL(PAUSE, reverse_sql=RESUME),
        migrations.RunPython(give_prefixes, migrations.RunPython.noop),
        migrations.RunSQL(RESUME, reverse_sql=PAUSE),
        migrations.AlterField(
            model_name="locationbilling",
            name="invoice_prefix",
            field=models.CharField(
                help_text="Printed before the number of every invoice and credit note of this "
                "location (LEA in LEA-2027-0042), so that no two locations print the same number. "
                "Fixed, like the currency, once the location has issued an invoice.",
                max_length=6,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        PREFIX,
                        "Two to six capital letters or digits, beginning with a letter, e.g. LEA.",
                    )
                ],
                verbose_name="invoice number prefix",
            ),
        ),
        migrations.AddConstraint(
            model_name="locationbilling",
            constraint=models.CheckConstraint(
                condition=models.Q(invoice_prefix__regex=PREFIX),
                name="billing_invoice_prefix_is_letters_and_digits",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.UniqueConstraint(
                fields=("number_prefix", "year", "number"), name="invoice_number_printed_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.UniqueConstraint(
                fields=("number_prefix", "year", "number"), name="credit_note_number_printed_once"
            ),
        ),
        migrations.RunSQL(FIXED, reverse_sql=UNFIXED),
    ]
