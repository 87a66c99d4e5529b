"""A new session note records a booked session of its course: PostgreSQL refuses one without an
appointment, one dated before its session starts, and one whose session number is not its
appointment's, whoever writes it.

`appointment_id` cannot simply become NOT NULL (nor get a CHECK, even NOT VALID: every later
UPDATE of an old row would be checked): notes written before this rule, without an
appointment, stay as they are, readable, and their drafts can still be saved. So the session
note's constraint trigger of intake's 0008 (`treatment_note_appointment_is_a_session_of_the_course`)
is extended, by CREATE OR REPLACE of its function, with three rules, each raised under its own
name:

    treatment_note_records_a_booked_session           not_null_violation
        an INSERT names an appointment, and an UPDATE never takes it away;
    treatment_note_number_is_the_sessions             check_violation
        the note's session_number is its appointment's session_number;
    treatment_note_not_before_its_session             check_violation
        the note's performed_at is not before its appointment's starts_at.

The trigger now also fires on UPDATE OF session_number and performed_at (dropped and created
again, same name). Rows already there are not checked (a constraint trigger never looks back):
signed notes are locked anyway, and the app writes new notes from their appointment only.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION intake_treatment_note_session_of_the_course() RETURNS trigger AS $$
DECLARE
    visit record;
BEGIN
    IF NEW.appointment_id IS NULL THEN
        IF TG_OP = 'INSERT' OR OLD.appointment_id IS NOT NULL THEN
            RAISE EXCEPTION 'A session note records a booked session of the course: it names '
                            'its appointment.'
                USING ERRCODE = 'not_null_violation',
                      CONSTRAINT = 'treatment_note_records_a_booked_session',
                      TABLE = 'intake_treatmentnote';
        END IF;
        RETURN NULL;  -- a note written before appointments were required
    END IF;
    SELECT a.patient_id, a.course_id, a.session_number, a.starts_at, s.kind INTO visit
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
    IF NEW.session_number IS DISTINCT FROM visit.session_number THEN
        RAISE EXCEPTION 'A session note has the session number of its appointment (%).',
                        visit.session_number
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'treatment_note_number_is_the_sessions',
                  TABLE = 'intake_treatmentnote';
    END IF;
    IF NEW.performed_at < visit.starts_at THEN
        RAISE EXCEPTION 'A session note is not dated before its session starts (%).',
                        visit.starts_at
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'treatment_note_not_before_its_session',
                  TABLE = 'intake_treatmentnote';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
DROP TRIGGER treatment_note_appointment_is_a_session_of_the_course ON intake_treatmentnote;
CREATE CONSTRAINT TRIGGER treatment_note_appointment_is_a_session_of_the_course
    AFTER INSERT OR UPDATE OF appointment_id, assessment_id, patient_id, session_number,
                              performed_at
    ON intake_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION intake_treatment_note_session_of_the_course();
"""

# As intake's 0008 left them.
OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION intake_treatment_note_session_of_the_course() RETURNS trigger AS $$
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
"""

OLD_TRIGGER = """
DROP TRIGGER treatment_note_appointment_is_a_session_of_the_course ON intake_treatmentnote;
CREATE CONSTRAINT TRIGGER treatment_note_appointment_is_a_session_of_the_course
    AFTER INSERT OR UPDATE OF appointment_id, assessment_id, patient_id ON intake_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION intake_treatment_note_session_of_the_course();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0010_record_integrity_across_patients"),
        ("intake", "0009_session_notes_and_outcome_surveys_by_name"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, reverse_sql=OLD_FUNCTION),
        migrations.RunSQL(TRIGGER, reverse_sql=OLD_TRIGGER),
    ]
