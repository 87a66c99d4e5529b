"""A waitlist place holds only what the services would make: days of the week from Monday (0) to
Sunday (6), a visit of 5 minutes to 12 hours, and never a dry-needling session. PostgreSQL
refuses the rest, whoever writes it (the admin could, before it became read-only):

    waitlist_weekdays_monday_to_sunday   CHECK weekdays <@ {0..6} (a day 7 broke the board)
    waitlist_minutes_in_a_day            CHECK 5 <= minutes <= 720
    waitlist_place_not_for_needling      trigger: a place made, or given another service, is
        not for a dry-needling service (sessions come as a course from a signed assessment,
        never from the waitlist: `booking.services.waitlist.join_waitlist` says so).

Places already there that break a CHECK stop the migration, named by id (as 0021 does).
Places for needling made before the services refused them are left as they are: the board
says they can never be offered a time (`WaitlistEntry.never_offered`), and the offers skip them.
"""

from django.db import migrations, models

# The places already there that the two CHECKs would refuse (the admin could write them): named,
# so that someone decides what each was meant to be, rather than a bare "violated by some row".
EXISTING = """
DO $$
DECLARE
    places text;
BEGIN
    SELECT string_agg(id::text, ', ' ORDER BY id) INTO places
      FROM booking_waitlistentry
     WHERE NOT (weekdays <@ ARRAY[0, 1, 2, 3, 4, 5, 6]::smallint[])
        OR minutes < 5 OR minutes > 720;
    IF places IS NOT NULL THEN
        RAISE EXCEPTION 'Waitlist places with a day of the week outside Monday (0) to Sunday (6), '
            'or a visit under 5 minutes or over 12 hours: [%]. Correct or withdraw them before '
            'migrating.', places;
    END IF;
END;
$$;
"""

NOT_FOR_NEEDLING = """
CREATE FUNCTION booking_waitlist_place_not_for_needling() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM clinic_service WHERE id = NEW.service_id AND kind = 'dry_needling'
    ) THEN
        RAISE EXCEPTION 'Dry-needling sessions come as a course after the assessment, never '
                        'from the waitlist.'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'waitlist_place_not_for_needling',
                  TABLE = 'booking_waitlistentry';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER waitlist_place_not_for_needling
    BEFORE INSERT OR UPDATE OF service_id ON booking_waitlistentry
    FOR EACH ROW EXECUTE FUNCTION booking_waitlist_place_not_for_needling();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0021_room_at_its_location"),
    ]

    operations = [
        migrations.RunSQL(EXISTING, reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("weekdays__contained_by", [0, 1, 2, 3, 4, 5, 6])),
                name="waitlist_weekdays_monday_to_sunday",
            ),
        ),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("minutes__gte", 5), ("minutes__lte", 720)),
                name="waitlist_minutes_in_a_day",
            ),
        ),
        migrations.RunSQL(
            NOT_FOR_NEEDLING,
            reverse_sql="""
            DROP TRIGGER waitlist_place_not_for_needling ON booking_waitlistentry;
            DROP FUNCTION booking_waitlist_place_not_for_needling();
            """,
        ),
    ]
