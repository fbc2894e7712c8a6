"""Partial indexes that let a report read a period's escalations, answers and callbacks without
scanning the case table (docs/reports.md). Created by migration 0001 and, on SQLite, again after
any migration (a table rebuild there drops indexes Django does not know of)."""

INDEXES: list[tuple[str, str]] = [
    ("report_case_escalated", "cases_case (program_id, escalated_at) WHERE escalated_at IS NOT NULL"),
    ("report_case_answered", "cases_case (program_id, ward_answered_at) WHERE ward_answered_at IS NOT NULL"),
    (
        "report_timeline_callback",
        "cases_timelineentry (created_at) WHERE to_status = 'callback' OR from_status = 'callback'",
    ),
]
