from django.db import migrations


class Migration(migrations.Migration):
    """A signed note can no longer be changed or removed, by the application or by anyone with
    SQL: PostgreSQL refuses any UPDATE or DELETE of a row whose signed_at is set (drafts stay
    free). Amendments are signed when written, so they are append-only from the start."""

    dependencies = [
        ("intake", "0003_assessment_and_treatment_notes"),
    ]

    operations = [
        migrations.RunSQL(
            """
            CREATE TRIGGER intake_assessmentnote_locked_once_signed
                BEFORE UPDATE OR DELETE ON intake_assessmentnote
                FOR EACH ROW EXECUTE FUNCTION intake_refuse_change_once_locked('signed_at');
            CREATE TRIGGER intake_treatmentnote_locked_once_signed
                BEFORE UPDATE OR DELETE ON intake_treatmentnote
                FOR EACH ROW EXECUTE FUNCTION intake_refuse_change_once_locked('signed_at');
            CREATE TRIGGER intake_assessmentamendment_append_only
                BEFORE UPDATE OR DELETE ON intake_assessmentamendment
                FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change();
            CREATE TRIGGER intake_treatmentnoteamendment_append_only
                BEFORE UPDATE OR DELETE ON intake_treatmentnoteamendment
                FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change();
            """,
            reverse_sql="""
            DROP TRIGGER intake_treatmentnoteamendment_append_only ON intake_treatmentnoteamendment;
            DROP TRIGGER intake_assessmentamendment_append_only ON intake_assessmentamendment;
            DROP TRIGGER intake_treatmentnote_locked_once_signed ON intake_treatmentnote;
            DROP TRIGGER intake_assessmentnote_locked_once_signed ON intake_assessmentnote;
            """,
        ),
    ]
