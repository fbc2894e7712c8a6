"""Business days for the ward's answer target: weekends and Japanese public holidays excluded."""

from __future__ import annotations

import bisect
import datetime
import functools

import jpholiday


def is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and not jpholiday.is_holiday(day)


def add_business_days(start: datetime.date, days: int) -> datetime.date:
    """The day `days` business days after `start` (a case escalated on Friday with a target of
    2 is due on Tuesday, or Wednesday when Monday is a holiday)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def business_days_between(start: datetime.date, end: datetime.date) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start).

    Counted, not walked: the weekdays of the range by arithmetic, less the public holidays
    that fall on a weekday. The dashboards ask this for the ward's oldest waiting cases, which
    can be months old, and walking day by day through jpholiday cost about 4 ms a case."""
    if end <= start:
        return 0
    return _weekdays_through(end) - _weekdays_through(start) - _weekday_holidays_between(start, end)


def _weekdays_through(day: datetime.date) -> int:
    """Monday-to-Friday days from an epoch Monday up to and including `day`."""
    ordinal = day.toordinal() - 1  # date(1, 1, 1), ordinal 1, was a Monday
    weeks, rest = divmod(ordinal + 1, 7)
    return weeks * 5 + min(rest, 5)


@functools.lru_cache(maxsize=64)
def _weekday_holidays(year: int) -> tuple[datetime.date, ...]:
    return tuple(sorted(day for day, _name in jpholiday.year_holidays(year) if day.weekday() < 5))


def _weekday_holidays_between(start: datetime.date, end: datetime.date) -> int:
    """Weekday holidays after `start` up to and including `end`."""
    count = 0
    for year in range(start.year, end.year + 1):
        days = _weekday_holidays(year)
        count += bisect.bisect_right(days, end) - bisect.bisect_right(days, start)
    return count
