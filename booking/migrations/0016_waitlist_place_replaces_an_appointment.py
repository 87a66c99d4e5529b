"""A waitlist place may be for an earlier time than one of the patient's appointments: taking
an offer then moves that appointment instead of booking a second one.

PostgreSQL keeps the link honest whoever writes it:

    waitlist_entry_appointment_is_the_patients   booking_waitlistentry (replaces_id, patient_id)
                                                 -> booking_appointment (id, patient_id)
        (as the composite keys of 0010_record_integrity_across_patients: the appointment is the
        waiting patient's own; changing the appointment's patient is refused too)
    waitlist_place_replaces_its_own_service      trigger: the appointment is of the place's
        service, and not a session of a course (a course session keeps between its neighbours
        and is moved on the schedule, never from the waitlist)
    waitlist_one_live_place_per_appointment      unique while waiting or offered
"""

from django.db import migrations, models

SAME_PATIENT = (
    "ALTER TABLE booking_waitlistentry ADD CONSTRAINT waitlist_entry_appointment_is_the_patients "
    "FOREIGN KEY (replaces_id, patient_id) REFERENCES booking_appointment (id, patient_id)"
)

SAME_SERVICE_TRIGGER = """
CREATE FUNCTION booking_waitlist_place_replaces_its_own_service() RETURNS trigger AS $$
BEGIN
    IF NEW.replaces_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM booking_appointment
         WHERE id = NEW.replaces_id AND service_id = NEW.service_id AND course_id IS NULL
    ) THEN
        RAISE EXCEPTION 'A waitlist place can only bring forward an appointment of its own '
                        'service that is not a session of a course.'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'waitlist_place_replaces_its_own_service',
                  TABLE = 'booking_waitlistentry';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER waitlist_place_replaces_its_own_service
    BEFORE INSERT OR UPDATE OF replaces_id, service_id ON booking_waitlistentry
    FOR EACH ROW EXECUTE FUNCTION booking_waitlist_place_replaces_its_own_service();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0015_hold_placed_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="waitlistentry",
            name="replaces",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "The patient's appointment this place is for an earlier time than: taking "
                    "an offer moves it there. Empty: a new appointment."
                ),
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="waitlist_places",
                to="booking.appointment",
            ),
        ),
        migrations.AddConstraint(
            model_name="waitlistentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ["waiting", "offered"])),
                fields=("replaces",),
                name="waitlist_one_live_place_per_appointment",
            ),
        ),
        migrations.RunSQL(
            SAME_PATIENT,
            reverse_sql="ALTER TABLE booking_waitlistentry "
            "DROP CONSTRAINT waitlist_entry_appointment_is_the_patients",
        ),
        migrations.RunSQL(
            SAME_SERVICE_TRIGGER,
            reverse_sql="""
            DROP TRIGGER waitlist_place_replaces_its_own_service ON booking_waitlistentry;
            DROP FUNCTION booking_waitlist_place_replaces_its_own_service();
            """,
        ),
    ]
