"""Business days for the ward's answer target: weekends and Japanese public holidays excluded."""

from __future__ import annotations

import datetime

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
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_business_day(day):
            count += 1
    return count
