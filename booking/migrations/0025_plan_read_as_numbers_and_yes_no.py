"""Reading a course's plan as it stands for the pages (the schedule's flags, the course page): a
number of the plan is a number or nothing, "dry needling is appropriate" is yes only when it is
exactly yes, the way the course's own rule (0017) compares them. Two SQL functions over 0017's
`booking_assessment_as_it_stands`, so that the pages never cast an odd value themselves (a text
where a number belongs would have failed the whole schedule's query):

    booking_plan_number(assessment, field)   integer: the field when it is a JSON number, else NULL
    booking_plan_says(assessment, field)     boolean: whether the field is JSON true (NULL when
                                             there is no assessment)
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION booking_plan_number(assessment bigint, field_name text)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN round((v #>> '{}')::numeric)::integer END
      FROM booking_assessment_as_it_stands(assessment, field_name) AS v
$$;

CREATE FUNCTION booking_plan_says(assessment bigint, field_name text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT booking_assessment_as_it_stands(assessment, field_name) = 'true'::jsonb
$$;
"""

DROP = """
DROP FUNCTION booking_plan_says(bigint, text);
DROP FUNCTION booking_plan_number(bigint, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0024_service_kind_fixed_once_booked"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
