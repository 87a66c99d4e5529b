"""The money rules the services keep, held by PostgreSQL as well, whatever writes the rows:

- credit notes never take more off an invoice than its total, and are numbered at its location;
- payments never pay more than the invoice asks (its total less its credit notes, counting a
  payment still waiting for its processor's answer as paid, so it is not asked for twice);
- refunds never give back more than was received (a pending payment may yet fail: 0002 counted it);
- a session drawn from a package is a completed session of the package's course, and the
  sessions never draw more than the package.

Each check first locks the invoice's row, as the services do (`SELECT ... FOR UPDATE`): a second
transaction writing money on the same invoice waits for the first to commit, then counts its rows
(each statement of a PL/pgSQL function sees what was committed before it began). Without the lock,
two transactions inserting at the same instant each saw only their own row, and both passed.
"""

from django.db import migrations

HELD = """
DROP TRIGGER billing_refunds_within_paid ON billing_payment;
DROP FUNCTION billing_refunds_within_paid();

CREATE FUNCTION billing_payments_within_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    asked numeric;
    received numeric;
    pending numeric;
    refunded numeric;
BEGIN
    SELECT total INTO asked FROM billing_invoice WHERE id = NEW.invoice_id FOR UPDATE;
    asked := asked - (SELECT coalesce(sum(amount), 0) FROM billing_creditnote
                       WHERE invoice_id = NEW.invoice_id);
    SELECT coalesce(sum(amount) FILTER (WHERE kind = 'payment' AND status = 'succeeded'), 0),
           coalesce(sum(amount) FILTER (WHERE kind = 'payment' AND status = 'pending'), 0),
           coalesce(sum(amount) FILTER (WHERE kind = 'refund' AND status <> 'failed'), 0)
      INTO received, pending, refunded
      FROM billing_payment WHERE invoice_id = NEW.invoice_id;
    IF refunded > received THEN
        RAISE EXCEPTION 'refunds of invoice % (%) would exceed what was paid (% received)',
            NEW.invoice_id, refunded, received USING ERRCODE = 'check_violation';
    END IF;
    -- Checked when a payment is written, not when a pending one is answered: money a processor
    -- took is recorded as received whatever happened meanwhile.
    IF TG_OP = 'INSERT' AND NEW.kind = 'payment' AND NEW.status <> 'failed'
        AND received + pending - refunded > asked THEN
        RAISE EXCEPTION 'payments on invoice % (% less % refunded) would exceed what it asks (%)',
            NEW.invoice_id, received + pending, refunded, asked USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER billing_payments_within_invoice AFTER INSERT OR UPDATE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION billing_payments_within_invoice();

CREATE FUNCTION billing_credit_within_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice billing_invoice%ROWTYPE;
    credited numeric;
BEGIN
    SELECT * INTO invoice FROM billing_invoice WHERE id = NEW.invoice_id FOR UPDATE;
    IF NEW.location_id <> invoice.location_id THEN
        RAISE EXCEPTION 'credit note % is numbered at another location than its invoice %',
            NEW.id, NEW.invoice_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO credited
      FROM billing_creditnote WHERE invoice_id = NEW.invoice_id;
    IF credited > invoice.total THEN
        RAISE EXCEPTION 'credit notes of invoice % (%) would exceed its total (%)',
            NEW.invoice_id, credited, invoice.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER billing_credit_within_invoice AFTER INSERT ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_credit_within_invoice();

CREATE FUNCTION billing_drawn_within_package() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    package billing_invoice%ROWTYPE;
    drawn numeric;
BEGIN
    SELECT * INTO package FROM billing_invoice WHERE id = NEW.package_id FOR UPDATE;
    IF package.kind <> 'course_package' OR NOT EXISTS (
        SELECT 1 FROM booking_appointment
         WHERE id = NEW.appointment_id AND course_id = package.course_id
           AND status = 'completed') THEN
        RAISE EXCEPTION 'a session drawn from package % must be a completed session of its course',
            NEW.package_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO drawn
      FROM billing_sessiondrawdown WHERE package_id = NEW.package_id;
    IF drawn > package.total THEN
        RAISE EXCEPTION 'sessions would draw more than package % holds (% of %)',
            NEW.package_id, drawn, package.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER billing_drawn_within_package AFTER INSERT ON billing_sessiondrawdown
    FOR EACH ROW EXECUTE FUNCTION billing_drawn_within_package();
"""

UNHELD = """
DROP TRIGGER billing_drawn_within_package ON billing_sessiondrawdown;
DROP FUNCTION billing_drawn_within_package();
DROP TRIGGER billing_credit_within_invoice ON billing_creditnote;
DROP FUNCTION billing_credit_within_invoice();
DROP TRIGGER billing_payments_within_invoice ON billing_payment;
DROP FUNCTION billing_payments_within_invoice();

CREATE FUNCTION billing_refunds_within_paid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paid numeric;
    refunded numeric;
BEGIN
    SELECT coalesce(sum(amount) FILTER (WHERE kind = 'payment'), 0),
           coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
      INTO paid, refunded
      FROM billing_payment WHERE invoice_id = NEW.invoice_id AND status <> 'failed';
    IF refunded > paid THEN
        RAISE EXCEPTION 'refunds of invoice % (%) would exceed what was paid (%)',
            NEW.invoice_id, refunded, paid USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER billing_refunds_within_paid AFTER INSERT OR UPDATE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION billing_refunds_within_paid();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_missed_visit_charged_each_time_it_is_missed"),
        ("booking", "0016_waitlist_place_replaces_an_appointment"),
    ]

    operations = [migrations.RunSQL(HELD, reverse_sql=UNHELD)]
