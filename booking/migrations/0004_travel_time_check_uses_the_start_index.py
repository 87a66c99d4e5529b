from django.db import migrations

DEFAULT_TRAVEL_MINUTES = 30  # clinic.models.DEFAULT_TRAVEL_MINUTES
ACTIVE = "('requested', 'confirmed', 'checked_in', 'completed')"


def function(window: bool) -> str:
    # With `window`, the search is bounded on starts_at (appointments last under 12 hours and
    # travel times are at most 8 hours), so it reads a few rows of the (practitioner,
    # starts_at) index instead of every appointment the practitioner ever had.
    bound = (
        """
       AND a.starts_at < NEW.blocks_until + interval '8 hours'
       AND a.starts_at > NEW.starts_at - interval '20 hours'"""
        if window
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION booking_keep_travel_time() RETURNS trigger LANGUAGE plpgsql AS $$
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
     WHERE a.practitioner_id = NEW.practitioner_id{bound}
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
"""


class Migration(migrations.Migration):
    dependencies = [("booking", "0003_bounded_appointment_length")]

    operations = [migrations.RunSQL(function(window=True), reverse_sql=function(window=False))]
