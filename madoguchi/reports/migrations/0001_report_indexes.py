"""Indexes that let a report read a period's escalations, answers and callbacks without a
scan of the whole case table (docs/reports.md). Partial indexes: only the rows they serve.

They live here, not in `cases`, because they serve the reports alone; both PostgreSQL and
SQLite accept the same statements.
"""

from django.db import migrations

INDEXES = [
    (
        "report_case_escalated",
        "cases_case (program_id, escalated_at) WHERE escalated_at IS NOT NULL",
    ),
    (
        "report_case_answered",
        "cases_case (program_id, ward_answered_at) WHERE ward_answered_at IS NOT NULL",
    ),
    (
        "report_timeline_callback",
        "cases_timelineentry (created_at) WHERE to_status = 'callback' OR from_status = 'callback'",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_add_sqlite_bigram_search")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES
    ]
