"""Working days on China's holiday calendar.

Working days come from the chinese-calendar library (weekends, public holidays and make-up
working days as announced by the State Council). It only knows the years already announced;
for a later year the count falls back to weekends, the statutory holidays fixed on the
solar calendar (《全国年节及纪念日放假办法》: 元旦, 劳动节, 国庆节) and the days an
administrator entered (`flask govservice holidays add`), and the result is marked
provisional, never an error.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from flask import has_app_context

from ..core.extensions import db
from .models import Holiday

# (month, day) of the statutory holidays with fixed solar dates.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


class WorkingCalendar:
    """Working days: chinese-calendar where it knows the year; beyond it weekends, the fixed
    solar holidays and the days an administrator entered (holidays and make-up working days).

    `overrides` maps a date to True (a working day) or False (a holiday); left None, they are
    read from the `holidays` table the first time a day beyond the library's years is asked
    about, so ordinary deadlines never touch the database. Reuse one calendar for many counts.
    """

    def __init__(self, overrides: dict[date, bool] | None = None):
        self._overrides = overrides
        self._cache: dict[date, tuple[bool, bool]] = {}
        self._spans: dict[tuple[date, date], int] = {}

    def overrides(self) -> dict[date, bool]:
        if self._overrides is None:
            self._overrides = _entered_days()
        return self._overrides

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """(working?, known?) — known is False where the library has no data for the year."""
        hit = self._cache.get(day)
        if hit is None:
            try:
                hit = chinese_calendar.is_workday(day), True
            except NotImplementedError:
                entered = self.overrides().get(day)
                if entered is None:
                    entered = day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
                hit = entered, False
            self._cache[day] = hit
        return hit

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The date `days` working days after `start` (start itself not counted); (deadline, provisional)."""
        day, left, provisional = start, days, False
        while left > 0:
            day += timedelta(days=1)
            working, known = self.is_working_day(day)
            provisional |= not known
            if working:
                left -= 1
        return day, provisional

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative if end is earlier)."""
        known = self._spans.get((start, end))
        if known is not None:
            return known
        sign, lo, hi = (1, start, end) if end >= start else (-1, end, start)
        count, day = 0, lo
        while day < hi:
            day += timedelta(days=1)
            count += self.is_working_day(day)[0]
        self._spans[(start, end)] = sign * count
        return sign * count


def _entered_days() -> dict[date, bool]:
    """The administrator's entries (`Holiday`); none outside an app."""
    if not has_app_context():
        return {}
    return {h.day: h.working for h in db.session.execute(db.select(Holiday)).scalars()}


def is_working_day(day: date) -> tuple[bool, bool]:
    return WorkingCalendar().is_working_day(day)


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    return WorkingCalendar().add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    return WorkingCalendar().working_days_between(start, end)
