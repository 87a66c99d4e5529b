from django.db import migrations


class Migration(migrations.Migration):
    """What a delivery says never changes once written, by the application or by anyone with
    SQL: PostgreSQL refuses an UPDATE of its endpoint, event, message id, payload, the delivery
    it repeats or its creation time (the attempts and the outcome are recorded on the row).
    A redelivery is a new row."""

    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            """
            CREATE FUNCTION webhooks_delivery_refuse_rewrite() RETURNS trigger AS $$
            BEGIN
                IF NEW.endpoint_id IS DISTINCT FROM OLD.endpoint_id
                   OR NEW.event IS DISTINCT FROM OLD.event
                   OR NEW.message_id IS DISTINCT FROM OLD.message_id
                   OR NEW.payload::jsonb IS DISTINCT FROM OLD.payload::jsonb
                   OR NEW.redelivery_of_id IS DISTINCT FROM OLD.redelivery_of_id
                      AND NEW.redelivery_of_id IS NOT NULL
                   OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
                    RAISE EXCEPTION 'A webhook delivery is not rewritten: what was sent stays as sent.'
                        USING ERRCODE = 'integrity_constraint_violation',
                              CONSTRAINT = 'webhook_delivery_is_immutable';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER webhook_delivery_is_immutable
                BEFORE UPDATE ON webhooks_delivery
                FOR EACH ROW EXECUTE FUNCTION webhooks_delivery_refuse_rewrite();
            """,
            reverse_sql="""
            DROP TRIGGER webhook_delivery_is_immutable ON webhooks_delivery;
            DROP FUNCTION webhooks_delivery_refuse_rewrite();
            """,
        ),
    ]
