"""Each connection writes its own stripe of the counts, its backend pid (dashboards/counting.py):
the column widens to hold any pid, and the trigger function is replaced. The counts already
written keep their stripes (the pid mod 16 of their writers), which readers sum as any other and
the next `compact-counts` folds.

PostgreSQL only: SQLite writes stripe 0 and stores any integer in the column as it is, and
rebuilding its table (how Django alters a column there) would trip over the counting triggers
on `cases_case`, which name it."""

from typing import Any

from django.db import migrations, models


def widen_and_reinstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE dashboards_casecount ALTER COLUMN stripe TYPE integer")
    # Today's triggers are installed by 0005_count_intake_by_hour, once the table has the
    # columns they write.


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0003_stripe_the_counts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="casecount",
                    name="stripe",
                    field=models.IntegerField(db_default=0, default=0),
                ),
            ],
            database_operations=[migrations.RunPython(widen_and_reinstall, migrations.RunPython.noop)],
        ),
    ]
