"""A session note records a dry-needling session of the course its assessment prescribed, and a
check-in about a session names a dry-needling session of the course it is about: PostgreSQL
refuses the rest, whoever writes them.

What was already guaranteed (booking's migration 0010_record_integrity_across_patients and
intake's 0007_record_integrity_within_intake): every appointment, course or assessment a note,
check-in or course names exists and is *the same patient's*, by a composite FOREIGN KEY on
(x_id, patient_id) -> (id, patient_id). `patient_id` is NOT NULL on every one of these tables,
so a named record that does not exist is refused by that foreign key too: no single-column
foreign key is needed beside it.

1. Those that cross from intake to booking (or back) become ON DELETE RESTRICT ON UPDATE
   RESTRICT, said out loud: a visit, course or assessment that a clinical record names is
   never deleted, nor handed to another patient, and a clinical record is never deleted in
   cascade. (They were NO ACTION, which refused the same at the end of the statement; RESTRICT
   refuses at once and cannot be deferred.) Same names, same columns:

       assessment_note_appointment_is_the_patients, treatment_note_appointment_is_the_patients,
       checkin_appointment_is_the_patients, checkin_course_is_the_patients,
       course_assessment_is_the_patients

2. What a foreign key cannot say, because it looks through the appointment at its course and
   service (a CHECK cannot look at another table, and a composite foreign key would need the
   course's assessment copied into every appointment): constraint triggers, each named for the
   rule and raising foreign_key_violation with that name, like the waitlist offer's trigger in
   booking's 0010.

       treatment_note_appointment_is_a_session_of_the_course   intake_treatmentnote
           the appointment a session note records (when it records one) is a dry-needling
           session (service kind dry_needling) of a course, and that course is the one the
           note's assessment prescribed (booking_course.assessment_id = the note's
           assessment_id).
       checkin_appointment_is_a_session_of_the_course          intake_checkin
           the appointment a check-in is about (when it names one: the session asked about,
           or the last session of the course asked about) is a dry-needling session of the
           course the check-in names (booking_appointment.course_id = the check-in's
           course_id, which must then be given).

   They speak only of the patient's own appointments: an appointment that does not exist or
   is another patient's is left to the `..._is_the_patients` foreign keys, so that refusal
   keeps its name (intake's services turn it into "not one of this patient's").

   They take a FOR SHARE lock on the appointment, so that an appointment cannot change course
   or service between the check and the commit. And the other side cannot break them either:
   BEFORE UPDATE triggers refuse, with the same names, to move an appointment that a note or
   check-in names to another course or service (`appointment_recorded_keeps_its_course`), to
   change the assessment of a course whose sessions have notes
   (`course_recorded_keeps_its_assessment`), or to make the dry-needling service, whose
   sessions notes or check-ins record, something else (`service_recorded_stays_dry_needling`).
   The app never does any of these; they are the backstop.

Existing rows are checked first: the migration stops, naming the rows, if any breaks a rule
(the demo and the clinic's data keep them; constraint triggers do not look at rows already
there, so this check is their VALIDATE).

Python models keep their plain integer ids (intake never imports booking, and Django 5.2 has
no composite foreign key); this migration depends on booking's latest so the tables exist.
"""

from django.db import migrations

# --- 1. The cross-app foreign keys, RESTRICT --------------------------------------------------

# (constraint, table, column naming the record, table of the record)
CROSSING = [
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
]


def foreign_keys(rows, action: str) -> list[str]:
    """Drop and add again, in one statement each, with `action` on delete and update."""
    return [
        f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} "
        f"FOREIGN KEY ({column}, patient_id) REFERENCES {target} (id, patient_id) "
        f"ON DELETE {action} ON UPDATE {action}"
        for name, table, column, target in rows
    ]


# --- 2. Sessions of the course ----------------------------------------------------------------

# The rows already there that the triggers below would refuse (their own patient's appointment,
# not a needling session of the right course).
EXISTING = """
DO $$
DECLARE
    notes text;
    answers text;
BEGIN
    SELECT string_agg(n.id::text, ', ' ORDER BY n.id) INTO notes
      FROM intake_treatmentnote n
      JOIN booking_appointment a ON a.id = n.appointment_id AND a.patient_id = n.patient_id
      JOIN clinic_service s ON s.id = a.service_id
      LEFT JOIN booking_course c ON c.id = a.course_id
     WHERE s.kind <> 'dry_needling' OR c.assessment_id IS DISTINCT FROM n.assessment_id;
    SELECT string_agg(k.id::text, ', ' ORDER BY k.id) INTO answers
      FROM intake_checkin k
      JOIN booking_appointment a ON a.id = k.appointment_id AND a.patient_id = k.patient_id
      JOIN clinic_service s ON s.id = a.service_id
     WHERE s.kind <> 'dry_needling' OR a.course_id IS NULL
        OR a.course_id IS DISTINCT FROM k.course_id;
    IF notes IS NOT NULL OR answers IS NOT NULL THEN
        RAISE EXCEPTION 'Records naming a visit that is not a session of their course: '
            'treatment notes [%], check-ins [%]. Correct them before migrating.',
            coalesce(notes, ''), coalesce(answers, '');
    END IF;
END;
$$;
"""

SESSION_TRIGGERS = """
-- A session note records a dry-needling session of the course its assessment prescribed.
CREATE FUNCTION intake_treatment_note_session_of_the_course() RETURNS trigger AS $$
DECLARE
    visit record;
BEGIN
    IF NEW.appointment_id IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT a.patient_id, a.course_id, s.kind INTO visit
      FROM booking_appointment a JOIN clinic_service s ON s.id = a.service_id
     WHERE a.id = NEW.appointment_id
       FOR SHARE OF a;
    IF NOT FOUND OR visit.patient_id <> NEW.patient_id THEN
        RETURN NULL;  -- treatment_note_appointment_is_the_patients refuses it
    END IF;
    IF visit.kind <> 'dry_needling' OR visit.course_id IS NULL
       OR (SELECT assessment_id FROM booking_course WHERE id = visit.course_id)
          IS DISTINCT FROM NEW.assessment_id THEN
        RAISE EXCEPTION 'A session note records a dry-needling session of the course its '
                        'assessment prescribed.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'treatment_note_appointment_is_a_session_of_the_course',
                  TABLE = 'intake_treatmentnote';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER treatment_note_appointment_is_a_session_of_the_course
    AFTER INSERT OR UPDATE OF appointment_id, assessment_id, patient_id ON intake_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION intake_treatment_note_session_of_the_course();

-- A check-in about a session names a dry-needling session of the course it names.
CREATE FUNCTION intake_checkin_session_of_the_course() RETURNS trigger AS $$
DECLARE
    visit record;
BEGIN
    IF NEW.appointment_id IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT a.patient_id, a.course_id, s.kind INTO visit
      FROM booking_appointment a JOIN clinic_service s ON s.id = a.service_id
     WHERE a.id = NEW.appointment_id
       FOR SHARE OF a;
    IF NOT FOUND OR visit.patient_id <> NEW.patient_id THEN
        RETURN NULL;  -- checkin_appointment_is_the_patients refuses it
    END IF;
    IF visit.kind <> 'dry_needling' OR visit.course_id IS NULL
       OR visit.course_id IS DISTINCT FROM NEW.course_id THEN
        RAISE EXCEPTION 'A check-in about a session names a dry-needling session of the '
                        'course it is about.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'checkin_appointment_is_a_session_of_the_course',
                  TABLE = 'intake_checkin';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER checkin_appointment_is_a_session_of_the_course
    AFTER INSERT OR UPDATE OF appointment_id, course_id, patient_id ON intake_checkin
    FOR EACH ROW EXECUTE FUNCTION intake_checkin_session_of_the_course();

-- The other side: what notes and check-ins record does not change under them.
CREATE FUNCTION intake_recorded_appointment_keeps_its_course() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM intake_treatmentnote WHERE appointment_id = NEW.id) THEN
        RAISE EXCEPTION 'A session that a session note records stays in its course and stays a '
                        'dry-needling session.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'treatment_note_appointment_is_a_session_of_the_course',
                  TABLE = 'booking_appointment';
    END IF;
    IF EXISTS (SELECT 1 FROM intake_checkin WHERE appointment_id = NEW.id) THEN
        RAISE EXCEPTION 'A session that a check-in is about stays in its course and stays a '
                        'dry-needling session.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'checkin_appointment_is_a_session_of_the_course',
                  TABLE = 'booking_appointment';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER appointment_recorded_keeps_its_course
    BEFORE UPDATE OF course_id, service_id ON booking_appointment
    FOR EACH ROW
    WHEN (OLD.course_id IS DISTINCT FROM NEW.course_id
          OR OLD.service_id IS DISTINCT FROM NEW.service_id)
    EXECUTE FUNCTION intake_recorded_appointment_keeps_its_course();

CREATE FUNCTION intake_recorded_course_keeps_its_assessment() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM intake_treatmentnote n
                 JOIN booking_appointment a ON a.id = n.appointment_id
                WHERE a.course_id = NEW.id) THEN
        RAISE EXCEPTION 'A course whose sessions have notes keeps the assessment that '
                        'prescribed it.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'treatment_note_appointment_is_a_session_of_the_course',
                  TABLE = 'booking_course';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER course_recorded_keeps_its_assessment
    BEFORE UPDATE OF assessment_id ON booking_course
    FOR EACH ROW WHEN (OLD.assessment_id IS DISTINCT FROM NEW.assessment_id)
    EXECUTE FUNCTION intake_recorded_course_keeps_its_assessment();

CREATE FUNCTION intake_recorded_service_stays_dry_needling() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM intake_treatmentnote n
                 JOIN booking_appointment a ON a.id = n.appointment_id
                WHERE a.service_id = NEW.id) THEN
        RAISE EXCEPTION 'The dry-needling service, whose sessions notes record, stays the '
                        'dry-needling service.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'treatment_note_appointment_is_a_session_of_the_course',
                  TABLE = 'clinic_service';
    END IF;
    IF EXISTS (SELECT 1 FROM intake_checkin k
                 JOIN booking_appointment a ON a.id = k.appointment_id
                WHERE a.service_id = NEW.id) THEN
        RAISE EXCEPTION 'The dry-needling service, whose sessions check-ins are about, stays '
                        'the dry-needling service.'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'checkin_appointment_is_a_session_of_the_course',
                  TABLE = 'clinic_service';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER service_recorded_stays_dry_needling
    BEFORE UPDATE OF kind ON clinic_service
    FOR EACH ROW WHEN (OLD.kind = 'dry_needling' AND NEW.kind <> 'dry_needling')
    EXECUTE FUNCTION intake_recorded_service_stays_dry_needling();
"""

DROP_SESSION_TRIGGERS = """
DROP TRIGGER service_recorded_stays_dry_needling ON clinic_service;
DROP FUNCTION intake_recorded_service_stays_dry_needling();
DROP TRIGGER course_recorded_keeps_its_assessment ON booking_course;
DROP FUNCTION intake_recorded_course_keeps_its_assessment();
DROP TRIGGER appointment_recorded_keeps_its_course ON booking_appointment;
DROP FUNCTION intake_recorded_appointment_keeps_its_course();
DROP TRIGGER checkin_appointment_is_a_session_of_the_course ON intake_checkin;
DROP FUNCTION intake_checkin_session_of_the_course();
DROP TRIGGER treatment_note_appointment_is_a_session_of_the_course ON intake_treatmentnote;
DROP FUNCTION intake_treatment_note_session_of_the_course();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0010_record_integrity_across_patients"),
        ("clinic", "0004_travel_time_at_most_8_hours"),
        ("intake", "0007_record_integrity_within_intake"),
    ]

    operations = [
        migrations.RunSQL(
            foreign_keys(CROSSING, "RESTRICT"),
            reverse_sql=foreign_keys(reversed(CROSSING), "NO ACTION"),
        ),
        migrations.RunSQL(EXISTING, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(SESSION_TRIGGERS, reverse_sql=DROP_SESSION_TRIGGERS),
    ]
