from django.db import migrations


class Migration(migrations.Migration):
    """PostgreSQL itself keeps submitted questionnaires, published consent texts and consent
    signatures from changing, whatever the application does.

    `intake_refuse_change_once_locked(lock_column, free_column...)` is a conditional version
    of clinic's `clinic_refuse_change()`: a row may be updated or deleted freely while
    `lock_column` is NULL (a draft); once it is set, DELETE is refused, and so is any UPDATE
    that touches a column other than the free ones. Clinical notes use it too.
    """

    dependencies = [
        ("clinic", "0002_access_log"),
        ("intake", "0001_questionnaire_and_consent"),
    ]

    operations = [
        migrations.RunSQL(
            """
            CREATE FUNCTION intake_refuse_change_once_locked() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE
                lock_column text := TG_ARGV[0];
                free_columns text[] := COALESCE(TG_ARGV[1:], ARRAY[]::text[]);
            BEGIN
                IF to_jsonb(OLD) ->> lock_column IS NULL THEN
                    IF TG_OP = 'DELETE' THEN
                        RETURN OLD;
                    END IF;
                    RETURN NEW;
                END IF;
                IF TG_OP = 'UPDATE'
                   AND (to_jsonb(NEW) - free_columns) = (to_jsonb(OLD) - free_columns) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '% row % is locked (% is set): % refused',
                    TG_TABLE_NAME, OLD.id, lock_column, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$;

            CREATE TRIGGER intake_intake_locked_once_submitted
                BEFORE UPDATE OR DELETE ON intake_intake
                FOR EACH ROW EXECUTE FUNCTION
                intake_refuse_change_once_locked('submitted_at', 'status', 'superseded_at');

            CREATE TRIGGER intake_consentversion_locked_once_published
                BEFORE UPDATE OR DELETE ON intake_consentversion
                FOR EACH ROW EXECUTE FUNCTION intake_refuse_change_once_locked('published_at');

            CREATE TRIGGER intake_consentsignature_append_only
                BEFORE UPDATE OR DELETE ON intake_consentsignature
                FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change();
            """,
            reverse_sql="""
            DROP TRIGGER intake_consentsignature_append_only ON intake_consentsignature;
            DROP TRIGGER intake_consentversion_locked_once_published ON intake_consentversion;
            DROP TRIGGER intake_intake_locked_once_submitted ON intake_intake;
            DROP FUNCTION intake_refuse_change_once_locked();
            """,
        ),
    ]
