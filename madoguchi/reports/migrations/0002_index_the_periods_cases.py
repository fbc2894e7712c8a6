"""A covering index for the report's counts of a period's cases (madoguchi/reports/indexes.py):
at 1,000,000 cases the month's counts were a scan of the whole case table."""

from django.db import migrations

from madoguchi.reports.indexes import INDEXES

NAME, TARGET = next((name, target) for name, target in INDEXES if name == "report_case_received")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_report_indexes")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {NAME} ON {TARGET}",
            reverse_sql=f"DROP INDEX IF EXISTS {NAME}",
        )
    ]
