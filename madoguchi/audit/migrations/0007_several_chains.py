# Several hash chains instead of one (issue 15, docs/audit.md "Several chains"). Events get
# `chain` and `chain_seq`; every event written so far stays in chain 0 (the legacy chain) with
# `chain_seq` left null (its position is its `seq`) and its stored hash unchanged: the hash of
# a legacy event does not cover the two new fields, so nothing is rewritten and the append-only
# table is never updated. The single head row (id 1) becomes chain 0's head, frozen from now
# on; chains 1..AUDIT_CHAINS start empty from the genesis hash, their heads created on first
# use. On PostgreSQL `seq` is drawn from a sequence from now on, set past the last event.

from django.db import migrations, models

from madoguchi.audit import sqlite_guard


def legacy_head_and_sequence(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET id = 0 WHERE id = 1")
        if connection.vendor == "postgresql":
            cursor.execute("CREATE SEQUENCE IF NOT EXISTS audit_event_seq OWNED BY audit_auditevent.seq")
            cursor.execute(
                "SELECT setval('audit_event_seq', COALESCE(MAX(seq), 1), MAX(seq) IS NOT NULL) "
                "FROM audit_auditevent"
            )
        elif connection.vendor == "sqlite":
            # Adding columns may have rebuilt the table, and its triggers went with the old one.
            sqlite_guard.create(cursor)


def single_head_again(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_chainhead WHERE id > 0")
        cursor.execute("UPDATE audit_chainhead SET id = 1 WHERE id = 0")
        if connection.vendor == "postgresql":
            cursor.execute("DROP SEQUENCE IF EXISTS audit_event_seq")


def sqlite_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            sqlite_guard.create(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0006_merge_20261203_2016"),
    ]

    operations = [
        # Reversing drops the columns (a table rebuild on SQLite): this runs last then.
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers_again),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "chain_seq"), name="audit_chain_position"),
        ),
        migrations.RunPython(legacy_head_and_sequence, single_head_again),
    ]
