"""A dry-needling session is a session of a course: PostgreSQL refuses one that names no course,
whoever writes it.

Dry needling is given only after a signed assessment says it is appropriate, as a course of 4–6
sessions (`book_course`, from the practitioner's plan: the course's own triggers, 0017 and
0018, hold it to that assessment and plan). The pages, the FHIR API and the booking services
refuse a one-off needling session (`refuse_needling_outside_a_course`), and a session note can
only record a needling session of a course (intake's 0008); but nothing in the database stopped
any other writer (a script, a bulk update, a future page) from booking needling for a patient
nobody had assessed, a visit that could then never have its session note.

    needling_session_belongs_to_a_course   trigger on booking_appointment, BEFORE INSERT OR
        UPDATE OF service_id, course_id, raising check_violation with that name: an appointment
        written, or given another service or course, that is of the dry-needling service names
        a course (course_id is not NULL; which course, its length and numbers are
        `course_sessions_keep_to_the_course`'s).

Whatever its status: a cancelled needling visit outside a course is no more a course's session
than an active one, and the services never write one.

Existing rows are left as they are: a needling appointment without a course written before this
rule (by a script, or a path since closed) is not refused, and this migration cannot fail on it.
Only new rows and a change of service or course are looked at; an update that leaves both as
they were (a cancellation, a move, a check-in, a full `save()`) passes, so such a visit can still
be cancelled, moved or marked as before. Whether one exists, and what it really was, is for the
clinic to find out (`SELECT a.id FROM booking_appointment a JOIN clinic_service s ON s.id =
a.service_id WHERE s.kind = 'dry_needling' AND a.course_id IS NULL`); none of the application's
paths writes one.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_needling_session_belongs_to_a_course() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.service_id, NEW.course_id) IS NOT DISTINCT FROM (OLD.service_id, OLD.course_id) THEN
        RETURN NEW;  -- a visit from before the rule keeps what it was
    END IF;
    IF EXISTS (
        SELECT 1 FROM clinic_service WHERE id = NEW.service_id AND kind = 'dry_needling'
    ) THEN
        RAISE EXCEPTION 'Dry-needling sessions are booked as a course after the assessment: '
                        'this needling session of patient % names no course.', NEW.patient_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'needling_session_belongs_to_a_course',
                  TABLE = 'booking_appointment';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER needling_session_belongs_to_a_course
    BEFORE INSERT OR UPDATE OF service_id, course_id ON booking_appointment
    FOR EACH ROW
    WHEN (NEW.course_id IS NULL)
    EXECUTE FUNCTION booking_needling_session_belongs_to_a_course();
"""

DROP = """
DROP TRIGGER needling_session_belongs_to_a_course ON booking_appointment;
DROP FUNCTION booking_needling_session_belongs_to_a_course();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0022_waitlist_places_the_services_make"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
