"""The holiday calendar's tables: the days an administrator entered, and the working calendar
as a table (so that working days are counted in SQL)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow


class Holiday(db.Model):
    """A day an administrator entered for a year the holiday calendar does not know yet:
    a holiday, or a make-up working day (调休上班)."""

    __tablename__ = "holidays"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    working: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CalendarDay(db.Model):
    """One day of the working calendar as a table, so that working days are counted in
    SQL: `ordinal` is the number of working days from the table's first day up to and including
    this one, and the working days after a up to b are ordinal(b) - ordinal(a), as
    `working.working_days_between` counts them. Filled from `working.WorkingCalendar` (chinese-calendar
    and the administrator's `holidays`), so `known` False marks a provisional year; kept by
    `calendar.workdays`, refreshed whenever a holiday is entered or removed."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean, nullable=False)
    known: Mapped[bool] = mapped_column(Boolean, nullable=False)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
