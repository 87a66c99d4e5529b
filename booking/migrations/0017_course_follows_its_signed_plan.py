"""A course of dry needling is booked only from a signed assessment whose decision, as it stands
(amendments included), is that dry needling is appropriate, and it is the course that plan
prescribes: its number of sessions, their length and how often. PostgreSQL refuses any other
course row, whoever writes it.

What was already guaranteed: the assessment a course names exists and is the patient's own
(`course_assessment_is_the_patients`, booking 0010 and intake 0008), and it prescribes one course
(`course_one_per_assessment`). Nothing in the database said that it was signed, that it said
"appropriate", or that the course was the plan's; `services.book_course` checks it through
intake's course gate, but a course written by any other path (a management command, a shell, a
future bulk import) could have booked needling that no practitioner had decided.

    course_follows_its_signed_plan   constraint trigger on booking_course, after INSERT, and
        after an UPDATE that changes a column it speaks of: the assessment is signed; its
        current decision is "dry needling is appropriate"; the course's sessions_planned,
        minutes and interval_days are the current planned_sessions, session_minutes and
        interval_days. Not deferred (refused by the statement that breaks it), and after the
        row's CHECK constraints, so that a course of 7 sessions is still refused by
        `course_has_4_to_6_sessions`, by name.

"Current" is the signed note with its amendments applied in order, as `SignedNote.current()`
reads it: for each field, the "to" of the last amendment that changes it, else the note's own
column (`booking_assessment_as_it_stands`). An amendment is the only way a signed decision
changes, so the trigger first takes a FOR SHARE lock on the assessment: an amendment signed
while the course is being booked (amend_note locks the note FOR UPDATE) waits for the course to
commit, or the course waits for the amendment and then reads it. This closes a race the Python
alone left open: `book_course` reads the gate before it locks the assessment.

Only the moment a course is written is checked. A course booked under a plan that an amendment
later changed (or withdrew) stays as it was booked: it was legitimate then, and what happens to
its remaining sessions is the practitioner's and the desk's call. So the rows already there are
not looked at, and this migration cannot fail on them.
"""

from django.db import migrations

CREATE = """
-- One field of an assessment note as it stands: the last amendment's value, else its own.
CREATE FUNCTION booking_assessment_as_it_stands(assessment bigint, field_name text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT a.changes -> field_name -> 'to'
           FROM intake_assessmentamendment a
          WHERE a.note_id = n.id AND a.changes ? field_name
          ORDER BY a.number DESC
          LIMIT 1),
        to_jsonb(n) -> field_name)
      FROM intake_assessmentnote n
     WHERE n.id = assessment
$$;

CREATE FUNCTION booking_course_follows_its_signed_plan() RETURNS trigger AS $$
DECLARE
    note_signed_at timestamptz;
    plan_sessions jsonb;
    plan_minutes jsonb;
    plan_interval jsonb;
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.assessment_id, NEW.patient_id, NEW.sessions_planned, NEW.minutes,
            NEW.interval_days)
           IS NOT DISTINCT FROM
           (OLD.assessment_id, OLD.patient_id, OLD.sessions_planned, OLD.minutes,
            OLD.interval_days) THEN
        RETURN NULL;
    END IF;
    -- Held until the course commits: no amendment changes the decision meanwhile.
    SELECT n.signed_at INTO note_signed_at
      FROM intake_assessmentnote n
     WHERE n.id = NEW.assessment_id AND n.patient_id = NEW.patient_id
       FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;  -- course_assessment_is_the_patients refuses it, by its own name
    END IF;
    IF note_signed_at IS NULL THEN
        RAISE EXCEPTION 'A course is booked from a signed assessment; assessment % is a draft.',
            NEW.assessment_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_follows_its_signed_plan',
                  TABLE = 'booking_course';
    END IF;
    IF booking_assessment_as_it_stands(NEW.assessment_id, 'needling_appropriate')
       IS DISTINCT FROM 'true'::jsonb THEN
        RAISE EXCEPTION 'A course is booked only when the signed assessment says dry needling '
                        'is appropriate; assessment % does not (amendments included).',
            NEW.assessment_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_follows_its_signed_plan',
                  TABLE = 'booking_course';
    END IF;
    plan_sessions := booking_assessment_as_it_stands(NEW.assessment_id, 'planned_sessions');
    plan_minutes := booking_assessment_as_it_stands(NEW.assessment_id, 'session_minutes');
    plan_interval := booking_assessment_as_it_stands(NEW.assessment_id, 'interval_days');
    IF plan_sessions IS DISTINCT FROM to_jsonb(NEW.sessions_planned)
       OR plan_minutes IS DISTINCT FROM to_jsonb(NEW.minutes)
       OR plan_interval IS DISTINCT FROM to_jsonb(NEW.interval_days) THEN
        RAISE EXCEPTION 'A course is the plan of its assessment: assessment % plans % sessions '
                        'of % minutes every % days, not % of % every %.',
            NEW.assessment_id, plan_sessions, plan_minutes, plan_interval,
            NEW.sessions_planned, NEW.minutes, NEW.interval_days
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_follows_its_signed_plan',
                  TABLE = 'booking_course';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER course_follows_its_signed_plan
    AFTER INSERT OR UPDATE OF assessment_id, patient_id, sessions_planned, minutes, interval_days
    ON booking_course
    FOR EACH ROW EXECUTE FUNCTION booking_course_follows_its_signed_plan();
"""

DROP = """
DROP TRIGGER course_follows_its_signed_plan ON booking_course;
DROP FUNCTION booking_course_follows_its_signed_plan();
DROP FUNCTION booking_assessment_as_it_stands(bigint, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0016_waitlist_place_replaces_an_appointment"),
        ("intake", "0011_checkin_after_care_by_time"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
