"""A record that names one of the patient's questionnaires, assessments or answers names one of
*that patient's*: PostgreSQL refuses the rest, whoever writes them.

Django 5.2 has no composite foreign key field, so each is a FOREIGN KEY on (x_id, patient_id)
referring to a UNIQUE (id, patient_id) of the record named (the `..._id_with_patient`
constraints on the models). A NULL x_id is not checked (MATCH SIMPLE). They are not deferred,
so a violation is reported by the statement that makes it.

The composite foreign keys added here (booking's migration 0010_record_integrity_across_patients
adds those that cross to appointments and courses):

    intake_corrects_the_patients_own_intake     intake_intake (supersedes_id, patient_id)
                                                -> intake_intake (id, patient_id)
    consent_signature_intake_is_the_patients    intake_consentsignature (intake_id, patient_id)
                                                -> intake_intake (id, patient_id)
    assessment_note_intake_is_the_patients      intake_assessmentnote (intake_id, patient_id)
                                                -> intake_intake (id, patient_id)
    treatment_note_assessment_is_the_patients   intake_treatmentnote (assessment_id, patient_id)
                                                -> intake_assessmentnote (id, patient_id)
    checkin_corrects_the_patients_own_answer    intake_checkin (supersedes_id, patient_id)
                                                -> intake_checkin (id, patient_id)
"""

from django.conf import settings
from django.db import migrations, models

# (constraint, table, column naming the record, table of the record)
SAME_PATIENT = [
    ("intake_corrects_the_patients_own_intake", "intake_intake", "supersedes_id", "intake_intake"),
    (
        "consent_signature_intake_is_the_patients",
        "intake_consentsignature",
        "intake_id",
        "intake_intake",
    ),
    (
        "assessment_note_intake_is_the_patients",
        "intake_assessmentnote",
        "intake_id",
        "intake_intake",
    ),
    (
        "treatment_note_assessment_is_the_patients",
        "intake_treatmentnote",
        "assessment_id",
        "intake_assessmentnote",
    ),
    (
        "checkin_corrects_the_patients_own_answer",
        "intake_checkin",
        "supersedes_id",
        "intake_checkin",
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


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0004_travel_time_at_most_8_hours"),
        ("intake", "0006_free_text_bounded_in_form_and_database"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="assessmentnote",
            constraint=models.UniqueConstraint(
                fields=("id", "patient"), name="assessment_note_id_with_patient"
            ),
        ),
        migrations.AddConstraint(
            model_name="checkin",
            constraint=models.UniqueConstraint(
                fields=("id", "patient"), name="checkin_id_with_patient"
            ),
        ),
        migrations.AddConstraint(
            model_name="intake",
            constraint=models.UniqueConstraint(
                fields=("id", "patient"), name="intake_id_with_patient"
            ),
        ),
        same_patient_sql(SAME_PATIENT),
    ]
