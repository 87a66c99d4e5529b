"""Patients who closed their account are marked, so that follow-up emails stop.

Accounts closed before this migration are found by the access log's row for the closing
(action "delete" on the patient's own record, written by booking's close-account page) on a
patient record that no longer has a login."""

from django.db import migrations, models

FILL_CLOSED_ACCOUNTS = """
UPDATE clinic_patient AS p
   SET account_closed_at = closed.at
  FROM (SELECT patient_id, max(at) AS at
          FROM clinic_accesslog
         WHERE action = 'delete' AND record_type = 'clinic.patient'
         GROUP BY patient_id) AS closed
 WHERE closed.patient_id = p.id AND p.user_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0010_one_cancellation_notice"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="account_closed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the patient closed their online account. The record stays; the clinic sends them no more follow-up emails (questionnaires, reminders to fill in intake, waitlist offers).",
                null=True,
            ),
        ),
        migrations.RunSQL(FILL_CLOSED_ACCOUNTS, reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("account_closed_at__isnull", True), ("user__isnull", True), _connector="OR"
                ),
                name="patient_closed_account_has_no_login",
            ),
        ),
    ]
