"""Issued invoices, their lines, credit notes and history never change: PostgreSQL refuses it.

A line added to an invoice later is refused too: the invoice's lines must add up to its subtotal
when the transaction that wrote them commits (a deferred constraint trigger), and the invoice
itself can no longer be changed to match. Payments are never deleted, their amounts and methods
never changed (a processor's answer may still change a pending payment's status), and refunds of
an invoice never exceed what was paid on it.
"""

from django.db import migrations

REFUSE = """
CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are issued and never change: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER billing_invoice_issued BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_invoiceline_issued BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_creditnote_issued BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_invoiceevent_append_only BEFORE UPDATE OR DELETE ON billing_invoiceevent
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_drawdown_append_only BEFORE UPDATE OR DELETE ON billing_sessiondrawdown
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

CREATE FUNCTION billing_check_lines(target bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    expected numeric;
    actual numeric;
BEGIN
    SELECT subtotal INTO expected FROM billing_invoice WHERE id = target;
    SELECT coalesce(sum(amount), 0) INTO actual FROM billing_invoiceline WHERE invoice_id = target;
    IF actual <> expected THEN
        RAISE EXCEPTION 'invoice % lines add up to % but it was issued for %: an issued invoice never changes',
            target, actual, expected USING ERRCODE = 'check_violation';
    END IF;
END $$;
CREATE FUNCTION billing_invoice_lines_add_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM billing_check_lines(NEW.id);
    RETURN NULL;
END $$;
CREATE FUNCTION billing_line_adds_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM billing_check_lines(NEW.invoice_id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER billing_invoice_lines_add_up AFTER INSERT ON billing_invoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_invoice_lines_add_up();
CREATE CONSTRAINT TRIGGER billing_invoiceline_adds_up AFTER INSERT ON billing_invoiceline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_line_adds_up();

CREATE FUNCTION billing_payment_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.invoice_id <> OLD.invoice_id OR NEW.kind <> OLD.kind
        OR NEW.method <> OLD.method OR NEW.amount <> OLD.amount OR NEW.processor <> OLD.processor
        OR OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'a recorded payment never changes (only a pending one gets its answer): % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_payment_kept BEFORE UPDATE OR DELETE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION billing_payment_kept();

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

UNDO = """
DROP TRIGGER billing_refunds_within_paid ON billing_payment;
DROP FUNCTION billing_refunds_within_paid();
DROP TRIGGER billing_payment_kept ON billing_payment;
DROP FUNCTION billing_payment_kept();
DROP TRIGGER billing_invoiceline_adds_up ON billing_invoiceline;
DROP TRIGGER billing_invoice_lines_add_up ON billing_invoice;
DROP FUNCTION billing_line_adds_up();
DROP FUNCTION billing_invoice_lines_add_up();
DROP FUNCTION billing_check_lines(bigint);
DROP TRIGGER billing_drawdown_append_only ON billing_sessiondrawdown;
DROP TRIGGER billing_invoiceevent_append_only ON billing_invoiceevent;
DROP TRIGGER billing_creditnote_issued ON billing_creditnote;
DROP TRIGGER billing_invoiceline_issued ON billing_invoiceline;
DROP TRIGGER billing_invoice_issued ON billing_invoice;
DROP FUNCTION billing_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(REFUSE, reverse_sql=UNDO)]
