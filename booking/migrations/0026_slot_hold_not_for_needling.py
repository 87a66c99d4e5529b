"""A time held for a patient is never for a dry-needling session: PostgreSQL refuses one, whoever
writes it, as it refuses a needling appointment of no course (0023) and a needling waitlist
place (0022).

A hold becomes, when the patient confirms it, an appointment of its own (`book_hold`), never a
session of a course: a needling hold could only ever be refused at that step. The services never
write one (`place_hold` refuses it, and waitlist offers hold only their places' services); this
is the same rule for any other writer.

    slot_hold_not_for_needling   trigger on booking_slothold, BEFORE INSERT OR UPDATE OF
        service_id, raising check_violation with that name when the service is dry needling.

Holds already there are not looked at (they expire within minutes; none of the application's
paths wrote a needling one), so this migration cannot fail on them.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_slot_hold_not_for_needling() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM clinic_service WHERE id = NEW.service_id AND kind = 'dry_needling'
    ) THEN
        RAISE EXCEPTION 'Dry-needling sessions are booked as a course after the assessment: no '
                        'time is held for a single one.'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'slot_hold_not_for_needling',
                  TABLE = 'booking_slothold';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER slot_hold_not_for_needling
    BEFORE INSERT OR UPDATE OF service_id ON booking_slothold
    FOR EACH ROW EXECUTE FUNCTION booking_slot_hold_not_for_needling();
"""

DROP = """
DROP TRIGGER slot_hold_not_for_needling ON booking_slothold;
DROP FUNCTION booking_slot_hold_not_for_needling();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0025_plan_read_as_numbers_and_yes_no"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
