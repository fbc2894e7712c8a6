# On PostgreSQL a trigger refuses UPDATE and DELETE on the audit tables (R-23, T-SEC-26).
# The one way through is the retention purge, which sets `madoguchi.audit_purge` to 'on' for
# its own transaction (SET LOCAL) and may then DELETE (never UPDATE). SQLite, the demo's
# database, has no such protection; the hash chain still shows any change there.

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditchange")

CREATE_FUNCTION = """
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


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION madoguchi_audit_append_only()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS madoguchi_audit_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_chain_events_and_drill_indexes'),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
