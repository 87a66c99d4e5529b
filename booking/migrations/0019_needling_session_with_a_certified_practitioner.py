"""Only a practitioner with a dry-needling certification current on the session's date is booked
for a dry-needling session: PostgreSQL refuses the rest, whoever writes it.

The booking services check it (`check_slot`, through `slot_problems`, for every needling
booking, course, session booked again and move), but nothing in the database did: a needling
session written by any other path, or moved to a colleague by a bulk update, could put an
untrained practitioner's name on a needling visit.

    needling_session_with_a_certified_practitioner   constraint trigger on booking_appointment,
        not deferred, raising check_violation with that name; after INSERT, and after an UPDATE
        that changes its practitioner, service, location or start: an active appointment
        (requested, confirmed, checked in, completed) of the dry-needling service is with a
        practitioner holding a certification with valid_from <= the session's date <=
        valid_until, the date being the start's on the location's own clock (a certification
        lasts to the end of its last day there, as `Practitioner.certified_on` counts it). The
        certification found is held FOR SHARE, so that a manager shortening it at that moment
        either waits for the booking or is seen by it.

Only booking is checked: a status change (check-in, no-show, its undoing) does not wake the rule,
and a certification that ends or is deleted later is not refused for the sessions booked under
it ("a certification can expire"; those sessions are for the desk to move). For the same reason
the rows already there are not looked at, and this migration cannot fail on them.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_needling_with_a_certified_practitioner() RETURNS trigger AS $$
DECLARE
    session_day date;
BEGIN
    IF NEW.status NOT IN ('requested', 'confirmed', 'checked_in', 'completed') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE'
       AND (NEW.practitioner_id, NEW.service_id, NEW.location_id, NEW.starts_at)
           IS NOT DISTINCT FROM
           (OLD.practitioner_id, OLD.service_id, OLD.location_id, OLD.starts_at) THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM clinic_service
                    WHERE id = NEW.service_id AND kind = 'dry_needling') THEN
        RETURN NULL;
    END IF;
    SELECT (NEW.starts_at AT TIME ZONE l.time_zone)::date INTO session_day
      FROM clinic_location l
     WHERE l.id = NEW.location_id;
    PERFORM 1
       FROM clinic_certification c
      WHERE c.practitioner_id = NEW.practitioner_id
        AND c.valid_from <= session_day AND session_day <= c.valid_until
      LIMIT 1
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Practitioner % has no dry-needling certification current on %, the '
                        'date of this dry-needling session.',
            NEW.practitioner_id, session_day
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'needling_session_with_a_certified_practitioner',
                  TABLE = 'booking_appointment';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER needling_session_with_a_certified_practitioner
    AFTER INSERT OR UPDATE OF practitioner_id, service_id, location_id, starts_at
    ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION booking_needling_with_a_certified_practitioner();
"""

DROP = """
DROP TRIGGER needling_session_with_a_certified_practitioner ON booking_appointment;
DROP FUNCTION booking_needling_with_a_certified_practitioner();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0018_course_sessions_keep_to_the_course"),
        ("clinic", "0012_user_role_api_client"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
