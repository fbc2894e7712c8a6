"""Today's intake by hour is counted as the rest (dashboards/counting.py, kind HOURLY): the
table gets its `hour` column and a unique key with it, the triggers are reinstalled and the
counts rebuilt, so the hourly rows exist for every case already received."""

from typing import Any

from django.db import migrations, models


def drop_sqlite_triggers(apps: Any, schema_editor: Any) -> None:
    """SQLite alters a table's constraints by rebuilding it, which fails while the counting
    triggers on `cases_case` name it ("error in trigger … no such table"); they come back
    below."""
    if schema_editor.connection.vendor != "sqlite":
        return
    from madoguchi.dashboards import counting

    for name in counting.SQLITE_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def reinstall_triggers(apps: Any, schema_editor: Any) -> None:
    from madoguchi.dashboards import counting

    counting.install(schema_editor.connection)
    counting.rebuild(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0004_a_stripe_per_connection"),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="casecount",
            name="dashboards_casecount_key_striped",
        ),
        migrations.AddField(
            model_name="casecount",
            name="hour",
            field=models.SmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddConstraint(
            model_name="casecount",
            constraint=models.UniqueConstraint(
                fields=(
                    "program",
                    "kind",
                    "day",
                    "status",
                    "channel",
                    "category_key",
                    "assignee_key",
                    "answered",
                    "hour",
                    "stripe",
                ),
                name="dashboards_casecount_key_hourly",
            ),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
