from django.db import migrations

# Kept in step with clinic.models.DEFAULT_TRAVEL_MINUTES.
DEFAULT_TRAVEL_MINUTES = 30

ACTIVE = "('requested', 'confirmed', 'checked_in', 'completed')"

CREATE = f"""
CREATE FUNCTION booking_keep_travel_time() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash_id bigint;
BEGIN
    IF NEW.status NOT IN {ACTIVE} THEN
        RETURN NEW;
    END IF;
    -- One booking of a practitioner at a time: without this lock two transactions could
    -- each pass the check below before either commits.
    PERFORM pg_advisory_xact_lock(hashtext('booking.practitioner'), NEW.practitioner_id::int);
    SELECT a.id INTO clash_id
      FROM booking_appointment a
      LEFT JOIN clinic_traveltime t
        ON t.from_location_id = LEAST(a.location_id, NEW.location_id)
       AND t.to_location_id = GREATEST(a.location_id, NEW.location_id)
     WHERE a.practitioner_id = NEW.practitioner_id
       AND a.id <> NEW.id
       AND a.location_id <> NEW.location_id
       AND a.status IN {ACTIVE}
       AND tstzrange(
             a.starts_at - make_interval(mins => COALESCE(t.minutes, {DEFAULT_TRAVEL_MINUTES})),
             a.blocks_until + make_interval(mins => COALESCE(t.minutes, {DEFAULT_TRAVEL_MINUTES}))
           ) && tstzrange(NEW.starts_at, NEW.blocks_until)
     LIMIT 1;
    IF clash_id IS NOT NULL THEN
        RAISE EXCEPTION 'appointment_travel_time_between_locations: practitioner % needs travel time between appointment % and this one',
            NEW.practitioner_id, clash_id
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = 'appointment_travel_time_between_locations';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER booking_appointment_travel_time
    BEFORE INSERT OR UPDATE OF starts_at, blocks_until, location_id, practitioner_id, status
    ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION booking_keep_travel_time();
"""

DROP = """
DROP TRIGGER booking_appointment_travel_time ON booking_appointment;
DROP FUNCTION booking_keep_travel_time();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0001_initial"),
        ("clinic", "0003_location_coordinates_and_travel_times"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
