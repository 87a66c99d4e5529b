"""The models take the names the pages use: TreatmentNote -> SessionNote (with its amendments)
and CheckIn -> OutcomeSurvey ("check-in" is arriving at the desk). The tables keep their names
(pinned first, so the renames change no table, constraint or trigger), and the reverse names
follow: assessment.session_notes, patient.outcome_surveys."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0004_travel_time_at_most_8_hours"),
        ("intake", "0008_clinical_records_link_to_visits"),
    ]

    operations = [
        migrations.AlterModelTable(name="treatmentnote", table="intake_treatmentnote"),
        migrations.AlterModelTable(
            name="treatmentnoteamendment", table="intake_treatmentnoteamendment"
        ),
        migrations.AlterModelTable(name="checkin", table="intake_checkin"),
        migrations.RenameModel(old_name="TreatmentNote", new_name="SessionNote"),
        migrations.RenameModel(old_name="TreatmentNoteAmendment", new_name="SessionNoteAmendment"),
        migrations.RenameModel(old_name="CheckIn", new_name="OutcomeSurvey"),
        migrations.AlterField(
            model_name="sessionnote",
            name="assessment",
            field=models.ForeignKey(
                help_text="The signed assessment that prescribed the course.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="session_notes",
                to="intake.assessmentnote",
            ),
        ),
        migrations.AlterField(
            model_name="outcomesurvey",
            name="patient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="outcome_surveys",
                to="clinic.patient",
            ),
        ),
    ]
