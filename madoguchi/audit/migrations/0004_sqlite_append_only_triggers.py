# On SQLite, triggers refuse UPDATE and DELETE of audit events, as the PostgreSQL trigger of
# 0003 does; the retention purge passes through a permit row (madoguchi/audit/sqlite_guard.py).

from django.db import migrations

from madoguchi.audit import sqlite_guard


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        sqlite_guard.create(cursor)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        sqlite_guard.drop(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_append_only_trigger"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
