from __future__ import annotations

import datetime
from collections import Counter

import pytest

from madoguchi.cases.models import Case, Channel, Status, TimelineEntry
from madoguchi.cases.testing import seed_categories
from madoguchi.reports.selectors import (
    REPORT_QUERIES,
    build_report,
    kind_of,
    period_for,
    weighted_median,
    weighted_percentile,
)
from madoguchi.reports.tables import report_tables
from madoguchi.reports.tests.factories import at, case, entry

D = datetime.date
TODAY = D(2025, 12, 10)
NOV = (D(2025, 11, 1), D(2025, 11, 30))


def november(world):
    """November 2025: 3 Nov (文化の日) and 24 Nov (振替休日) are holidays."""
    program = world.program
    cats = seed_categories(program)
    eligibility, method, delivery = cats["対象要件"], cats["申請方法"], cats["配送・到着"]
    op, sup = world.operator, world.supervisor
    case(program, at(D(2025, 11, 3)), category=eligibility, status=Status.CLOSED, assignee=op)
    case(program, at(D(2025, 11, 3)), channel=Channel.FORM, category=eligibility, assignee=op)
    case(program, at(D(2025, 11, 20), 23, 30), category=method, status=Status.CLOSED, assignee=sup)
    case(program, at(D(2025, 11, 21), 0, 30), channel=Channel.EMAIL, category=method, status=Status.NEW)
    case(program, at(D(2025, 10, 31), 23, 59))  # outside
    case(program, at(D(2025, 12, 1), 0, 0))  # outside

    def escalation(day, due, answered=None, **kwargs):
        return case(
            program,
            at(day, 9),
            category=delivery,
            status=Status.WARD_ANSWERED if answered else Status.ESCALATED,
            escalated=at(day, 10),
            due=due,
            answered=at(answered, 15) if answered else None,
            **kwargs,
        )

    escalation(D(2025, 11, 17), D(2025, 11, 19), D(2025, 11, 26), assignee=op)  # 6 days, late
    escalation(D(2025, 11, 18), D(2025, 11, 20), D(2025, 11, 21))  # 3 days, late
    escalation(D(2025, 11, 19), D(2025, 11, 21), D(2025, 11, 20))  # 1
    escalation(D(2025, 11, 20), D(2025, 11, 25), D(2025, 11, 20))  # 0
    fri = escalation(D(2025, 11, 21), D(2025, 11, 26), D(2025, 11, 25))  # 1: Sat, Sun, Mon holiday
    escalation(D(2025, 11, 20), D(2025, 11, 25))  # unanswered past its deadline
    escalation(D(2025, 11, 27), D(2025, 12, 1))  # unanswered, deadline after the period
    escalation(D(2025, 10, 30), D(2025, 11, 4), D(2025, 11, 5))  # escalated before: 3 days (3 Nov)
    entry(fri, at(D(2025, 11, 25), 16), kind=TimelineEntry.Kind.WARD_ANSWER, to_status=Status.CALLBACK)
    entry(fri, at(D(2025, 11, 26), 11), kind=TimelineEntry.Kind.STATUS_CHANGE, from_status=Status.CALLBACK)
    entry(fri, at(D(2025, 12, 1), 11), kind=TimelineEntry.Kind.STATUS_CHANGE, to_status=Status.CALLBACK)
    return cats


class PeriodTests:
    def test_daily_weekly_monthly(self):
        assert period_for("daily", D(2025, 11, 20)) == (D(2025, 11, 20), D(2025, 11, 20))
        assert period_for("weekly", D(2025, 11, 20)) == (D(2025, 11, 17), D(2025, 11, 23))
        assert period_for("monthly", D(2024, 2, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
        assert kind_of(D(2025, 11, 1), D(2025, 11, 30)) == "monthly"
        assert kind_of(D(2025, 11, 2), D(2025, 11, 30)) == "range"

    def test_median_and_nearest_rank_percentile(self):
        assert weighted_median(Counter({0: 1, 1: 2, 3: 2, 6: 1})) == 2.0
        assert weighted_median(Counter({2: 3})) == 2.0
        assert weighted_median(Counter()) is None
        assert weighted_percentile(Counter({0: 1, 1: 2, 3: 2, 6: 1}), 90) == 6
        assert weighted_percentile(Counter({1: 9, 5: 1}), 90) == 1
        assert weighted_percentile(Counter({1: 8, 5: 2}), 90) == 5


@pytest.mark.django_db
class ReportFigureTests:
    def test_counts_by_day_channel_category_and_status(self, world):
        cats = november(world)
        report = build_report(world.program, *NOV, with_operators=True, today=TODAY)
        assert report.total == 11
        assert report.by("channel") == Counter({"phone": 9, "form": 1, "email": 1})
        # the day is Japan's: 23:30 on the 20th and 00:30 on the 21st fall on different days
        by_day = report.by("day")
        assert by_day[D(2025, 11, 3)] == 2
        assert by_day[D(2025, 11, 20)] == 1 + 2
        assert by_day[D(2025, 11, 21)] == 1 + 1
        cell = {(c.day, c.channel, c.category_id, c.status): c.count for c in report.cells}
        assert cell[(D(2025, 11, 3), "phone", cats["対象要件"].pk, "closed")] == 1
        assert cell[(D(2025, 11, 3), "form", cats["対象要件"].pk, "in_progress")] == 1
        top = report.top_categories()
        assert [(name, n) for _pk, name, n, _share in top] == [
            ("配送・到着", 7),
            ("対象要件", 2),
            ("申請方法", 2),
        ]

    def test_escalations_answer_time_in_business_days_and_overdue(self, world):
        november(world)
        esc = build_report(world.program, *NOV, with_operators=False, today=TODAY).escalations
        assert esc.escalated == 7
        assert esc.answered == 6
        assert esc.answer_days == Counter({0: 1, 1: 2, 3: 2, 6: 1})
        assert esc.median_days == 2.0
        assert esc.p90_days == 6
        assert (esc.answered_late, esc.open_overdue, esc.overdue) == (2, 1, 3)

    def test_across_the_holiday_a_friday_escalation_answered_on_tuesday_took_one_business_day(self, world):
        november(world)
        week = build_report(
            world.program, D(2025, 11, 25), D(2025, 11, 25), with_operators=False, today=TODAY
        )
        assert week.escalations.answer_days == Counter({1: 1})
        assert week.escalations.median_days == 1.0

    def test_callbacks(self, world):
        november(world)
        report = build_report(world.program, *NOV, with_operators=False, today=TODAY)
        assert (report.callbacks.requested, report.callbacks.resolved) == (1, 1)
        assert report.callbacks.requested_by_day == Counter({D(2025, 11, 25): 1})

    def test_cases_per_operator_only_when_asked(self, world):
        november(world)
        report = build_report(world.program, *NOV, with_operators=True, today=TODAY)
        rows = {row.name: (row.received, row.escalated, row.closed) for row in report.operators or []}
        assert rows["テスト operator"] == (3, 1, 1)
        assert rows["テスト supervisor"] == (1, 0, 1)
        assert rows["（担当者なし）"] == (7, 6, 0)
        assert build_report(world.program, *NOV, with_operators=False, today=TODAY).operators is None

    def test_other_programs_do_not_count(self, world):
        november(world)
        case(world.other_program, at(D(2025, 11, 20)))
        assert build_report(world.program, *NOV, with_operators=True, today=TODAY).total == 11

    def test_a_fixed_number_of_queries(self, world, django_assert_num_queries):
        november(world)
        # REPORT_QUERIES with the per-operator section, one fewer without it
        with django_assert_num_queries(REPORT_QUERIES):
            report = build_report(world.program, *NOV, with_operators=True, today=TODAY)
            report_tables(report)
        for _ in range(3):
            november(world)
        with django_assert_num_queries(REPORT_QUERIES):
            report_tables(build_report(world.program, *NOV, with_operators=True, today=TODAY))
        with django_assert_num_queries(REPORT_QUERIES - 1):
            report_tables(build_report(world.program, *NOV, with_operators=False, today=TODAY))


@pytest.mark.django_db
class ErasureTests:
    def test_a_report_is_the_same_after_the_personal_items_are_blanked(self, world):
        november(world)

        def tables():
            report = build_report(world.program, *NOV, with_operators=True, today=TODAY)
            return [(t.title, t.headers, t.rows) for t in report_tables(report) if t.key != "summary"] + [
                [row for row in report_tables(report)[0].rows if row[0] != "作成日時"]
            ]

        before = tables()
        # What the end-of-program erasure does: every personal field and free text blanked.
        Case.objects.update(
            caller_name="",
            caller_kana="",
            child_name="",
            child_dob=None,
            contact_phone="",
            contact_email="",
            inquiry="",
            response="",
            search_text="",
            verified_items=[],
            household=None,
            caller_person=None,
        )
        TimelineEntry.objects.update(body="")
        assert tables() == before
