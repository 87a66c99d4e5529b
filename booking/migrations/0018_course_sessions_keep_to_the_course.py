"""A session of a course is a dry-needling session of the course's length, numbered within the
sessions the course plans: PostgreSQL refuses the rest, whoever writes it.

What was already guaranteed: a course session has a number from 1 to 6, one active appointment
per number (`appointment_course_sessions_numbered_1_to_6`,
`appointment_one_active_per_course_session`), and the course is the patient's own
(`appointment_course_is_the_patients`). Nothing said that session 6 of a course of 4 could not
exist, that a 20-minute course's session lasts 20 minutes ("a course's sessions use the length
the plan set"), or that a course session is needling at all; the booking services make them so
(`book_course`, `rebook_course_session`, moves that keep the length), and the session counts,
the superbill's codes, the package's drawdowns and the results all read them so.

    course_sessions_keep_to_the_course   constraint triggers, not deferred, raising
                                         check_violation with that name:
        on booking_appointment, after INSERT, and after an UPDATE that changes its course,
            number, service or times: an appointment with a course is of the dry-needling
            service, lasts the course's minutes (ends_at - starts_at; the buffer after it is
            the location's and is not part of the session) and is numbered at most the
            course's sessions_planned. It takes a FOR SHARE lock on the course, so that the
            course cannot change between the check and the commit.
        on booking_course, after an UPDATE that changes sessions_planned or minutes: none of
            its sessions (whatever their status: a cancelled session keeps its number and its
            length in the history) is numbered beyond the plan or of another length.

Existing rows are checked first: the migration stops, naming the appointments, if any breaks the
rule (as intake's 0008 does for its triggers; constraint triggers do not look at rows already
there). No path of the application writes such a row: `book_course` and `rebook_course_session`
book the course's length and numbers, and a move keeps the length, so on the clinic's data this
check finds nothing; a row it names was written around the application and needs a person to
say what the session really was.
"""

from django.db import migrations

EXISTING = """
DO $$
DECLARE
    sessions text;
BEGIN
    SELECT string_agg(a.id::text, ', ' ORDER BY a.id) INTO sessions
      FROM booking_appointment a
      JOIN booking_course c ON c.id = a.course_id
      JOIN clinic_service s ON s.id = a.service_id
     WHERE s.kind <> 'dry_needling'
        OR a.ends_at - a.starts_at <> make_interval(mins => c.minutes)
        OR a.session_number > c.sessions_planned;
    IF sessions IS NOT NULL THEN
        RAISE EXCEPTION 'Course sessions that are not dry-needling sessions of their course''s '
            'length and numbers: appointments [%]. Correct them before migrating.', sessions;
    END IF;
END;
$$;
"""

CREATE = """
CREATE FUNCTION booking_appointment_keeps_to_its_course() RETURNS trigger AS $$
DECLARE
    course record;
    service_kind text;
BEGIN
    IF NEW.course_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE'
       AND (NEW.course_id, NEW.session_number, NEW.service_id, NEW.starts_at, NEW.ends_at)
           IS NOT DISTINCT FROM
           (OLD.course_id, OLD.session_number, OLD.service_id, OLD.starts_at, OLD.ends_at) THEN
        RETURN NULL;
    END IF;
    SELECT c.sessions_planned, c.minutes INTO course
      FROM booking_course c
     WHERE c.id = NEW.course_id
       FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;  -- appointment_course_is_the_patients refuses it, by its own name
    END IF;
    SELECT kind INTO service_kind FROM clinic_service WHERE id = NEW.service_id;
    IF service_kind IS DISTINCT FROM 'dry_needling' THEN
        RAISE EXCEPTION 'A session of course % is a dry-needling session, not %.',
            NEW.course_id, service_kind
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_sessions_keep_to_the_course',
                  TABLE = 'booking_appointment';
    END IF;
    IF NEW.ends_at - NEW.starts_at <> make_interval(mins => course.minutes) THEN
        RAISE EXCEPTION 'A session of course % lasts the course''s % minutes, not %.',
            NEW.course_id, course.minutes, NEW.ends_at - NEW.starts_at
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_sessions_keep_to_the_course',
                  TABLE = 'booking_appointment';
    END IF;
    IF NEW.session_number > course.sessions_planned THEN
        RAISE EXCEPTION 'Course % has % sessions: there is no session %.',
            NEW.course_id, course.sessions_planned, NEW.session_number
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_sessions_keep_to_the_course',
                  TABLE = 'booking_appointment';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER course_sessions_keep_to_the_course
    AFTER INSERT OR UPDATE OF course_id, session_number, service_id, starts_at, ends_at
    ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION booking_appointment_keeps_to_its_course();

CREATE FUNCTION booking_course_keeps_its_sessions() RETURNS trigger AS $$
DECLARE
    outside bigint;
BEGIN
    SELECT a.id INTO outside
      FROM booking_appointment a
     WHERE a.course_id = NEW.id
       AND (a.session_number > NEW.sessions_planned
            OR a.ends_at - a.starts_at <> make_interval(mins => NEW.minutes))
     LIMIT 1;
    IF outside IS NOT NULL THEN
        RAISE EXCEPTION 'Course % cannot plan % sessions of % minutes: its session '
                        '(appointment %) would be outside the plan.',
            NEW.id, NEW.sessions_planned, NEW.minutes, outside
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'course_sessions_keep_to_the_course',
                  TABLE = 'booking_course';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER course_sessions_keep_to_the_course
    AFTER UPDATE OF sessions_planned, minutes ON booking_course
    FOR EACH ROW
    WHEN (OLD.sessions_planned IS DISTINCT FROM NEW.sessions_planned
          OR OLD.minutes IS DISTINCT FROM NEW.minutes)
    EXECUTE FUNCTION booking_course_keeps_its_sessions();
"""

DROP = """
DROP TRIGGER course_sessions_keep_to_the_course ON booking_course;
DROP FUNCTION booking_course_keeps_its_sessions();
DROP TRIGGER course_sessions_keep_to_the_course ON booking_appointment;
DROP FUNCTION booking_appointment_keeps_to_its_course();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0017_course_follows_its_signed_plan"),
    ]

    operations = [
        migrations.RunSQL(EXISTING, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(CREATE, reverse_sql=DROP),
    ]
