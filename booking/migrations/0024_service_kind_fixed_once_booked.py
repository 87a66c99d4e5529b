"""A service's kind (assessment, dry needling, re-assessment) is fixed once a visit, a held time or
a waitlist place names it: PostgreSQL refuses to change it, whoever writes.

Every rule about a visit reads its service's kind: needling only with a certified practitioner
(0019), only as a session of a course (0023), the course's sessions (0018), the waitlist (0022),
the fees, the superbill's codes and the results. Changing an assessment service into dry
needling in the admin would have made every assessment already booked a needling session of no
course, past each of those rules at once (they look at a visit when it is written, not when its
service changes). The admin shows the kind read-only once the service exists; this is the same
rule for any other writer.

    service_kind_fixed_once_booked   trigger on clinic_service, BEFORE UPDATE OF kind, raising
        check_violation with that name when the kind changes and an appointment, a slot hold or
        a waitlist place names the service (a place made needling that way would be one 0022
        says never exists).

(intake's 0008 `service_recorded_stays_dry_needling` already refused one case of it: making the
needling service, whose sessions notes record, something else. It stays; this one is wider.)
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_service_kind_fixed_once_booked() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM booking_appointment WHERE service_id = NEW.id)
       OR EXISTS (SELECT 1 FROM booking_slothold WHERE service_id = NEW.id)
       OR EXISTS (SELECT 1 FROM booking_waitlistentry WHERE service_id = NEW.id) THEN
        RAISE EXCEPTION 'The service "%" has visits booked as a %: its kind cannot change.',
            OLD.name, OLD.kind
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'service_kind_fixed_once_booked',
                  TABLE = 'clinic_service';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER service_kind_fixed_once_booked
    BEFORE UPDATE OF kind ON clinic_service
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION booking_service_kind_fixed_once_booked();
"""

DROP = """
DROP TRIGGER service_kind_fixed_once_booked ON clinic_service;
DROP FUNCTION booking_service_kind_fixed_once_booked();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0023_needling_session_belongs_to_a_course"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
