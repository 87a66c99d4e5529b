import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Holds placed before this migration were all patients' own choices on the pages (or an API
# client's, indistinguishable now: a few minutes' worth, which the client can place again) or
# waitlist offers'. A patient's unbooked hold stays theirs to request; an offer's has no placer.
FILL_PATIENTS_OWN_HOLDS = """
UPDATE booking_slothold AS hold
   SET placed_by_id = patient.user_id
  FROM clinic_patient AS patient
 WHERE hold.patient_id = patient.id
   AND patient.user_id IS NOT NULL
   AND hold.appointment_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM booking_waitlistoffer AS offer WHERE offer.hold_id = hold.id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0014_report_tallies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="slothold",
            name="placed_by",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "Who chose the time: the patient on the pages, or an API client's account. "
                    "Only they may request it. A waitlist offer's hold has none: it is taken by "
                    "accepting the offer."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(FILL_PATIENTS_OWN_HOLDS, migrations.RunSQL.noop),
    ]
