"""The time source, swappable in tests (`FixedClock`), and the Beijing calendar date.

Working days on China's holiday calendar are `govservice.calendar.working`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

BEIJING = ZoneInfo("Asia/Shanghai")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """For tests: a clock that stands still until moved."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


def now(app=None) -> datetime:
    """The app's time (a test pins it); `app` for a caller outside the app's context."""
    return (app if app is not None else current_app).extensions.get("clock", SYSTEM).now()


def today() -> date:
    """Today in Beijing: deadlines are Beijing calendar days."""
    return now().astimezone(BEIJING).date()


SYSTEM = SystemClock()
