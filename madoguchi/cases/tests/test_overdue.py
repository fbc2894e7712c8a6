import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.cases import selectors, services
from madoguchi.cases.business_days import add_business_days, business_days_between, is_business_day
from madoguchi.cases.testing import make_case

JST = datetime.timezone(datetime.timedelta(hours=9))


class BusinessDayTests:
    def test_a_friday_escalation_is_due_on_tuesday(self):
        # 2025-11-07 is a Friday; Monday 10th and Tuesday 11th are ordinary days.
        assert add_business_days(datetime.date(2025, 11, 7), 2) == datetime.date(2025, 11, 11)

    def test_a_weekend_and_a_holiday_are_skipped(self):
        # Friday 2025-11-21, then the weekend and 勤労感謝の日 observed on Monday 24th.
        assert add_business_days(datetime.date(2025, 11, 21), 2) == datetime.date(2025, 11, 26)

    def test_golden_week_is_skipped(self):
        # Escalated on Thursday 2025-05-01: 5/3-5/6 are holidays and weekend.
        assert add_business_days(datetime.date(2025, 5, 1), 2) == datetime.date(2025, 5, 7)

    def test_business_days_between_counts_only_working_days(self):
        assert business_days_between(datetime.date(2025, 11, 21), datetime.date(2025, 11, 26)) == 2

    def test_business_days_between_agrees_with_walking_the_days(self):
        # Counted by arithmetic; walking day by day is the definition. Across year ends,
        # Golden Week, substitute holidays and empty or reversed ranges.
        def walked(start: datetime.date, end: datetime.date) -> int:
            count, day = 0, start
            while day < end:
                day += datetime.timedelta(days=1)
                count += is_business_day(day)
            return count

        first = datetime.date(2024, 12, 20)
        for offset in range(0, 500, 3):
            start = first + datetime.timedelta(days=offset)
            for length in (-3, 0, 1, 2, 6, 7, 8, 13, 40, 230, 400):
                end = start + datetime.timedelta(days=length)
                assert business_days_between(start, end) == walked(start, end), (start, end)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=JST)


@pytest.mark.django_db
class OverdueTests:
    def escalate_on(self, world, day):
        world.program.recording_start = datetime.date(2025, 1, 1)
        world.program.recording_end = datetime.date(2026, 12, 31)
        world.program.save()
        case = make_case(world.program, world.operator)
        with mock.patch.object(timezone, "now", return_value=at(day)):
            services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
        return case

    def test_it_is_not_overdue_on_the_due_day_and_is_the_next_business_day(self, world):
        case = self.escalate_on(world, datetime.date(2025, 11, 21))
        assert case.ward_due_on == datetime.date(2025, 11, 26)
        assert not selectors.is_overdue(case, datetime.date(2025, 11, 24))
        assert not selectors.is_overdue(case, datetime.date(2025, 11, 26))
        assert selectors.is_overdue(case, datetime.date(2025, 11, 27))

    def test_the_overdue_filter_and_queue_show_it(self, client, world):
        late = self.escalate_on(world, datetime.date(2025, 11, 21))
        fresh = self.escalate_on(world, datetime.date(2025, 11, 26))
        login(client, world.ward_staff)
        with mock.patch.object(timezone, "localdate", return_value=datetime.date(2025, 11, 27)):
            page = client.get(reverse("cases:list"), {"overdue": "on"}).content.decode()
            assert late.receipt_number in page and fresh.receipt_number not in page
            rows = selectors.queue(world.ward_staff, "escalated")
            assert [(row.case.pk, row.overdue, row.waited_business_days) for row in rows] == [
                (late.pk, True, 3),
                (fresh.pk, False, 1),
            ]
            assert selectors.waiting_counts(world.ward_staff).overdue == 1

    def test_answering_stops_the_clock(self, world):
        case = self.escalate_on(world, datetime.date(2025, 11, 21))
        services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)
        assert not selectors.is_overdue(case, datetime.date(2025, 12, 31))
