"""The report's partial indexes on the case and timeline tables (madoguchi/reports/indexes.py).

They live here, not in `cases`, because they serve the reports alone; PostgreSQL and SQLite
accept the same statements.
"""

from django.db import migrations

from madoguchi.reports.indexes import INDEXES


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_add_sqlite_bigram_search")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES
    ]
