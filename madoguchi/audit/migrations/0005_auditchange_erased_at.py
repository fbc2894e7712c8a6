# The end-of-program erasure (issue 10) empties the before/after values of a program's audit
# changes and stamps `erased_at`. On PostgreSQL the append-only trigger lets exactly that
# UPDATE through, inside a transaction that set `madoguchi.audit_erasure` to 'on' (SET LOCAL):
# the same row, before and after emptied, `erased_at` set. Any other UPDATE is still refused.

from django.db import migrations, models

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION madoguchi_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('madoguchi.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    -- Nested: PL/pgSQL does not promise to stop at the first false AND, and NEW.event_id
    -- exists only on audit_auditchange.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_auditchange' THEN
        IF current_setting('madoguchi.audit_erasure', true) = 'on'
            AND NEW.id = OLD.id AND NEW.event_id = OLD.event_id
            AND NEW.erased_at IS NOT NULL
            AND NEW.before = '{}'::jsonb AND NEW.after = '{}'::jsonb THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION madoguchi_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('madoguchi.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def allow_erasure(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION, params=None)


def refuse_erasure(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_FUNCTION, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_map_household_keys_to_public_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchange",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(allow_erasure, refuse_erasure),
    ]
