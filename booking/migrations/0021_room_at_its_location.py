"""An appointment, or a time held for a patient, is in a room of its own location; a room that
has either never moves to another location. PostgreSQL keeps both, whoever writes:

    appointment_room_is_at_its_location   booking_appointment (room_id, location_id)
                                          -> booking_room (id, location_id)
    slot_hold_room_is_at_its_location     booking_slothold (room_id, location_id)
                                          -> booking_room (id, location_id)

As the composite keys of 0010_record_integrity_across_patients: a FOREIGN KEY referring to a
UNIQUE (id, location_id) of the room (`room_id_with_location`), not deferred. The booking
services only ever choose a room of the location; what this closes is the admin, where a
manager could move a room (and with it the visits already booked in it) to another location,
and any other writer. The room admin says so in the form before the database has to.

Existing rows are checked first: the migration stops, naming them, if an appointment or a hold
is in a room of another location (constraints added by ALTER TABLE would stop too, but without
saying which rows).
"""

from django.db import migrations, models

EXISTING = """
DO $$
DECLARE
    visits text;
    holds text;
BEGIN
    SELECT string_agg(a.id::text, ', ' ORDER BY a.id) INTO visits
      FROM booking_appointment a JOIN booking_room r ON r.id = a.room_id
     WHERE r.location_id <> a.location_id;
    SELECT string_agg(h.id::text, ', ' ORDER BY h.id) INTO holds
      FROM booking_slothold h JOIN booking_room r ON r.id = h.room_id
     WHERE r.location_id <> h.location_id;
    IF visits IS NOT NULL OR holds IS NOT NULL THEN
        RAISE EXCEPTION 'Booked in a room of another location: appointments [%], held times [%]. '
            'Move them to a room of their own location before migrating.',
            coalesce(visits, ''), coalesce(holds, '');
    END IF;
END;
$$;
"""

AT_ITS_LOCATION = [
    ("appointment_room_is_at_its_location", "booking_appointment"),
    ("slot_hold_room_is_at_its_location", "booking_slothold"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0020_appointment_status_changes_as_allowed"),
        ("clinic", "0012_user_role_api_client"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="room",
            constraint=models.UniqueConstraint(
                fields=("id", "location"), name="room_id_with_location"
            ),
        ),
        migrations.RunSQL(EXISTING, reverse_sql=migrations.RunSQL.noop),
        *(
            migrations.RunSQL(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (room_id, location_id) "
                "REFERENCES booking_room (id, location_id)",
                reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT {name}",
            )
            for name, table in AT_ITS_LOCATION
        ),
    ]
