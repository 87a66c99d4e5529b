"""An appointment's status changes only as the clinic works: PostgreSQL refuses any other change,
whoever writes it.

The table is `booking.models.TRANSITIONS` (requested → confirmed → checked in → completed;
requested or confirmed → cancelled; confirmed → no-show) and the two corrections of a status
set in error at the desk (`booking.services.corrections`: a no-show taken back to checked in, a
check-in taken back to confirmed). The services check it under the appointment's row lock; the
database had only `appointment_status_is_known`, so a bulk update or a script could bring a
cancelled visit back to life, or un-complete a visit whose invoice was issued (the README's
"a visit is never invoiced without being completed"), with no line in its history.

    appointment_status_changes_as_allowed   constraint trigger on booking_appointment, not
        deferred, after an UPDATE that changes the status; raises check_violation with that
        name. After the row's CHECK constraints, so an unknown status is still refused by
        `appointment_status_is_known`, by name.

What it does not say: the clock's rules (confirm before the start, a no-show after it, check-in
from 12 hours before, corrections on the visit's day), which depend on the time of the request
and stay with the services; and the status a row is first written with (the demo and imports
write visits that already happened as completed or cancelled). Only changes are checked, so the
rows already there are not looked at and this migration cannot fail on them.

Kept in step with TRANSITIONS and the corrections: a new status change is added in both.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_appointment_status_changes_as_allowed() RETURNS trigger AS $$
BEGIN
    IF (OLD.status, NEW.status) NOT IN (
        ('requested', 'confirmed'),
        ('requested', 'cancelled'),
        ('confirmed', 'checked_in'),
        ('confirmed', 'cancelled'),
        ('confirmed', 'no_show'),
        ('checked_in', 'completed'),
        -- The desk's corrections, on the visit's day (booking.services.corrections).
        ('no_show', 'checked_in'),
        ('checked_in', 'confirmed')
    ) THEN
        RAISE EXCEPTION 'Appointment % cannot go from % to %.', NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'appointment_status_changes_as_allowed',
                  TABLE = 'booking_appointment';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER appointment_status_changes_as_allowed
    AFTER UPDATE OF status ON booking_appointment
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION booking_appointment_status_changes_as_allowed();
"""

DROP = """
DROP TRIGGER appointment_status_changes_as_allowed ON booking_appointment;
DROP FUNCTION booking_appointment_status_changes_as_allowed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0019_needling_session_with_a_certified_practitioner"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
