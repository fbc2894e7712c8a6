"""Indexes that let a report read a period's cases, escalations, answers and callbacks without
scanning the case table (docs/reports.md). Created by migrations 0001 and 0002 and, on SQLite,
again after any migration (a table rebuild there drops indexes Django does not know of)."""

INDEXES: list[tuple[str, str]] = [
    # The period's counts (day x channel x category x status) and cases per operator: every
    # column they read is in the index, so PostgreSQL answers them with an index-only scan of
    # the period (a month at 1,000,000 cases: about 130,000 entries, never the table's heap).
    (
        "report_case_received",
        "cases_case (program_id, received_at, channel, category_id, status, assignee_id, escalated_at)",
    ),
    ("report_case_escalated", "cases_case (program_id, escalated_at) WHERE escalated_at IS NOT NULL"),
    ("report_case_answered", "cases_case (program_id, ward_answered_at) WHERE ward_answered_at IS NOT NULL"),
    (
        "report_timeline_callback",
        "cases_timelineentry (created_at) WHERE to_status = 'callback' OR from_status = 'callback'",
    ),
]
