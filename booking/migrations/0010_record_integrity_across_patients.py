"""Every record that names a patient and one of their visits (an appointment or a course) or
the assessment that prescribed a course names one of *that patient's*: PostgreSQL refuses a
note, check-in, course, session, email or hold that mixes two patients, whoever writes it.

As in intake's migration 0007_record_integrity_within_intake: a FOREIGN KEY on
(x_id, patient_id) referring to a UNIQUE (id, patient_id) of the record named
(`appointment_id_with_patient`, `course_id_with_patient`, `assessment_note_id_with_patient`),
not deferred, unchecked while x_id is NULL. Changing an appointment's or a course's patient
while records name it is refused the same way.

Some of these columns are plain integer ids, not Django foreign keys (intake never imports
booking), so these constraints are also the only check that the record named exists. A later
change turning them into real foreign keys keeps or replaces exactly these, by name:

    assessment_note_appointment_is_the_patients  intake_assessmentnote (appointment_id, patient_id)
                                                 -> booking_appointment (id, patient_id)  [plain id]
    treatment_note_appointment_is_the_patients   intake_treatmentnote (appointment_id, patient_id)
                                                 -> booking_appointment (id, patient_id)  [plain id]
    checkin_appointment_is_the_patients          intake_checkin (appointment_id, patient_id)
                                                 -> booking_appointment (id, patient_id)  [plain id]
    checkin_course_is_the_patients               intake_checkin (course_id, patient_id)
                                                 -> booking_course (id, patient_id)       [plain id]
    course_assessment_is_the_patients            booking_course (assessment_id, patient_id)
                                                 -> intake_assessmentnote (id, patient_id) [plain id]
    appointment_course_is_the_patients           booking_appointment (course_id, patient_id)
                                                 -> booking_course (id, patient_id)
    notification_appointment_is_the_patients     booking_notification (appointment_id, patient_id)
                                                 -> booking_appointment (id, patient_id)
    notification_course_is_the_patients          booking_notification (course_id, patient_id)
                                                 -> booking_course (id, patient_id)
    slot_hold_appointment_is_the_patients        booking_slothold (appointment_id, patient_id)
                                                 -> booking_appointment (id, patient_id)

A waitlist offer names its patient only through its entry and its hold, so a trigger checks
those two agree: `waitlist_offer_hold_is_the_entrys_patient`.

And one assessment prescribes at most one course: `course_one_per_assessment` (unique).
"""

from django.conf import settings
from django.db import migrations, models

SAME_PATIENT = [
    (
        "assessment_note_appointment_is_the_patients",
        "intake_assessmentnote",
        "appointment_id",
        "booking_appointment",
    ),
    (
        "treatment_note_appointment_is_the_patients",
        "intake_treatmentnote",
        "appointment_id",
        "booking_appointment",
    ),
    (
        "checkin_appointment_is_the_patients",
        "intake_checkin",
        "appointment_id",
        "booking_appointment",
    ),
    ("checkin_course_is_the_patients", "intake_checkin", "course_id", "booking_course"),
    (
        "course_assessment_is_the_patients",
        "booking_course",
        "assessment_id",
        "intake_assessmentnote",
    ),
    ("appointment_course_is_the_patients", "booking_appointment", "course_id", "booking_course"),
    (
        "notification_appointment_is_the_patients",
        "booking_notification",
        "appointment_id",
        "booking_appointment",
    ),
    ("notification_course_is_the_patients", "booking_notification", "course_id", "booking_course"),
    (
        "slot_hold_appointment_is_the_patients",
        "booking_slothold",
        "appointment_id",
        "booking_appointment",
    ),
]


def same_patient_sql(rows) -> migrations.RunSQL:
    return migrations.RunSQL(
        [
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}, patient_id) "
            f"REFERENCES {target} (id, patient_id)"
            for name, table, column, target in rows
        ],
        reverse_sql=[
            f"ALTER TABLE {table} DROP CONSTRAINT {name}" for name, table, _, _ in reversed(rows)
        ],
    )


OFFER_TRIGGER = """
CREATE FUNCTION booking_waitlist_offer_same_patient() RETURNS trigger AS $$
BEGIN
    IF (SELECT patient_id FROM booking_waitlistentry WHERE id = NEW.entry_id)
       IS DISTINCT FROM (SELECT patient_id FROM booking_slothold WHERE id = NEW.hold_id) THEN
        RAISE EXCEPTION 'A waitlist offer must hold the slot for the patient who is waiting.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'waitlist_offer_hold_is_the_entrys_patient',
                  TABLE = 'booking_waitlistoffer';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER waitlist_offer_hold_is_the_entrys_patient
    BEFORE INSERT OR UPDATE OF entry_id, hold_id ON booking_waitlistoffer
    FOR EACH ROW EXECUTE FUNCTION booking_waitlist_offer_same_patient();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0009_course_session_number_required"),
        ("clinic", "0004_travel_time_at_most_8_hours"),
        ("intake", "0007_record_integrity_within_intake"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                fields=("id", "patient"), name="appointment_id_with_patient"
            ),
        ),
        migrations.AddConstraint(
            model_name="course",
            constraint=models.UniqueConstraint(
                fields=("assessment_id",), name="course_one_per_assessment"
            ),
        ),
        migrations.AddConstraint(
            model_name="course",
            constraint=models.UniqueConstraint(
                fields=("id", "patient"), name="course_id_with_patient"
            ),
        ),
        same_patient_sql(SAME_PATIENT),
        migrations.RunSQL(
            OFFER_TRIGGER,
            reverse_sql="""
            DROP TRIGGER waitlist_offer_hold_is_the_entrys_patient ON booking_waitlistoffer;
            DROP FUNCTION booking_waitlist_offer_same_patient();
            """,
        ),
    ]
