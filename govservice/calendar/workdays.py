"""Working days in SQL: the `calendar_days` table and the expressions that count with it.

The table holds every day from 2004 (chinese-calendar's first year) to the end of next year
but one, each with whether it is a working day and a cumulative working-day ordinal, filled
from `calendar.working.WorkingCalendar` so that the table and the count never disagree (including a
provisional year: `known` False). The working days after a up to b are then ordinal(b) -
ordinal(a): "working days left", the yellow and red marks, and supervision's working days to
complete become differences of two joined ordinals, or plain date cut-offs on an index.

`ensure()` checks the table once per process and day (and fills it the first time, or when the
years move on or chinese-calendar learns a year); `refresh()` runs whenever an administrator
enters or removes a holiday, in the same transaction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Date, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..core import clock
from ..core.extensions import db
from .models import CalendarDay, Holiday
from .working import WorkingCalendar

FIRST_DAY = date(2004, 1, 1)


def last_day(today: date) -> date:
    return date(today.year + 2, 12, 31)


def _entered() -> dict[date, bool]:
    return {h.day: h.working for h in db.session.execute(select(Holiday)).scalars()}


@functools.lru_cache(maxsize=8)
def _days(end: date, entered: frozenset) -> tuple[tuple[date, bool, bool, int], ...]:
    calendar = WorkingCalendar(dict(entered))
    rows, ordinal, day = [], 0, FIRST_DAY
    while day <= end:
        working, known = calendar.is_working_day(day)
        ordinal += working
        rows.append((day, working, known, ordinal))
        day += timedelta(days=1)
    return tuple(rows)


def wanted(today: date) -> tuple[tuple[date, bool, bool, int], ...]:
    """(day, working, known, ordinal) for every day the table should hold (computed once per
    process for the same holidays: chinese-calendar answers 10,000 days in a few tenths of a second)."""
    return _days(last_day(today), frozenset(_entered().items()))


def refresh(today: date | None = None, *, connection=None) -> int:
    """Bring the table in line with the calendar, in the caller's transaction (or on `connection`);
    returns the rows changed."""
    executor = connection if connection is not None else db.session
    table = CalendarDay.__table__
    rows = wanted(today or clock.today())
    have = {r.day: (r.working, r.known, r.ordinal) for r in executor.execute(select(table))}
    fresh = [dict(day=d, working=w, known=k, ordinal=o) for d, w, k, o in rows if d not in have]
    changed = [
        dict(b_day=d, working=w, known=k, ordinal=o) for d, w, k, o in rows if d in have and have[d] != (w, k, o)
    ]
    if fresh:
        executor.execute(table.insert(), fresh)
    if changed:
        executor.execute(
            update(table)
            .where(table.c.day == bindparam("b_day"))
            .values(working=bindparam("working"), known=bindparam("known"), ordinal=bindparam("ordinal")),
            changed,
        )
    return len(fresh) + len(changed)


def _stale(today: date) -> bool:
    span = db.session.execute(select(func.min(CalendarDay.day), func.max(CalendarDay.day))).one()
    if span[0] != FIRST_DAY or span[1] is None or span[1] < last_day(today):
        return True
    first_unknown = db.session.execute(
        select(func.min(CalendarDay.day))
        .where(CalendarDay.known.is_(False))
        .where(CalendarDay.day >= date(today.year - 1, 1, 1))
    ).scalar()
    return first_unknown is not None and WorkingCalendar({}).is_working_day(first_unknown)[1]


def ensure() -> None:
    """The table covers the years in use (checked once a day per process); filled if not, on a
    connection of its own, so a caller's unfinished transaction is never committed with it."""
    today = clock.today()
    if current_app.extensions.get("workdays_checked") == today:
        return
    if _stale(today):
        try:
            with db.engine.begin() as connection:
                refresh(today, connection=connection)
        except IntegrityError:  # another instance filled it at the same moment
            pass
    current_app.extensions["workdays_checked"] = today


def ordinal(day: date) -> int:
    ensure()
    value = db.session.execute(select(CalendarDay.ordinal).where(CalendarDay.day == day)).scalar()
    if value is None:
        raise ValueError(f"{day} is outside the working calendar")
    return value


@dataclass(frozen=True)
class Cutoffs:
    """Today's thresholds: an open case under a running clock is overdue when its deadline is
    before `overdue_before`, and due soon (one working day or less left) before `soon_before`.

    ordinal is non-decreasing, so "ordinal(deadline) < ordinal(today)" is "deadline earlier than
    the first day whose ordinal reaches today's": a range on the (deadline, id) index."""

    today: date
    today_ordinal: int
    overdue_before: date
    soon_before: date


def cutoffs(today: date | None = None) -> Cutoffs:
    today = today or clock.today()
    now = ordinal(today)

    def first_reaching(n: int) -> date:
        return db.session.execute(select(func.min(CalendarDay.day)).where(CalendarDay.ordinal >= n)).scalar()

    return Cutoffs(today, now, first_reaching(now), first_reaching(now + 2))


# --- SQL expressions ---------------------------------------------------------------------------


class beijing_date(FunctionElement):
    """The Beijing calendar date of a UTC timestamp column (China keeps UTC+8 all year)."""

    type = Date()
    inherit_cache = True


@compiles(beijing_date)
def _beijing_date_default(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(beijing_date, "postgresql")
def _beijing_date_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
