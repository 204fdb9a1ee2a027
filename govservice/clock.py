"""The time source, swappable in tests, and working days on China's holiday calendar.

Working days come from the chinese-calendar library (weekends, public holidays and make-up
working days as announced by the State Council). It only knows the years already announced;
for a later year the count falls back to weekends and the statutory holidays fixed on the
solar calendar (《全国年节及纪念日放假办法》: 元旦, 劳动节, 国庆节), and the result is
marked provisional, never an error.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

from flask import current_app

BEIJING = ZoneInfo("Asia/Shanghai")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """For tests: a clock that stands still until moved."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


def now() -> datetime:
    return current_app.extensions.get("clock", SYSTEM).now()


def today() -> date:
    """Today in Beijing: deadlines are Beijing calendar days."""
    return now().astimezone(BEIJING).date()


SYSTEM = SystemClock()


# (month, day) of the statutory holidays with fixed solar dates.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working?, known?) — known is False where the calendar has no data for the year."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, False


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The date `days` working days after `start` (start itself not counted); (deadline, provisional)."""
    day, left, provisional = start, days, False
    while left > 0:
        day += timedelta(days=1)
        working, known = is_working_day(day)
        provisional |= not known
        if working:
            left -= 1
    return day, provisional


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative if end is earlier)."""
    sign, lo, hi = (1, start, end) if end >= start else (-1, end, start)
    count, day = 0, lo
    while day < hi:
        day += timedelta(days=1)
        count += is_working_day(day)[0]
    return sign * count
