"""Finding a patient at the front desk by name, phone, email or date of birth, forgiving of case
and accents: `booking_patient_search_text(...)` folds a patient's name, email and phone digits
into one lower-case, unaccented text, with a trigram index on it so that "cote" finds "Côté"
and "hadad" finds "Haddad" quickly (see booking.patient_search).

The index is on the clinic app's patient table but belongs to this feature, so it lives here.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# SQL-standard bodies (PostgreSQL 14+) are parsed when created, so they do not depend on the
# search_path of whoever later calls them (or restores a dump).
CREATE = r"""
CREATE FUNCTION public.booking_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    RETURN public.unaccent('public.unaccent'::regdictionary, lower(value));

CREATE FUNCTION public.booking_patient_search_text(
    first_name text, last_name text, email text, phone text
) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN public.booking_fold(
        coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' '
        || coalesce(email, '') || ' ' || regexp_replace(coalesce(phone, ''), '\D', '', 'g')
    );

CREATE INDEX booking_patient_search_trgm ON clinic_patient
    USING gin (public.booking_patient_search_text(first_name, last_name, email, phone) gin_trgm_ops);

CREATE INDEX booking_patient_date_of_birth ON clinic_patient (date_of_birth);
"""

DROP = """
DROP INDEX IF EXISTS booking_patient_date_of_birth;
DROP INDEX IF EXISTS booking_patient_search_trgm;
DROP FUNCTION IF EXISTS public.booking_patient_search_text(text, text, text, text);
DROP FUNCTION IF EXISTS public.booking_fold(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0006_appointment_proposed_by_clinic"),
        ("clinic", "0004_travel_time_at_most_8_hours"),
    ]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunSQL(CREATE, reverse_sql=DROP),
    ]
