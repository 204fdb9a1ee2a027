"""The days an administrator enters for years the holiday calendar library does not know yet
(放假, or 调休上班), each audited; the SQL calendar is refreshed in the same transaction."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import services as audit
from ..core import clock
from ..core.extensions import db
from . import workdays
from .models import Holiday
from .working import WorkingCalendar


class CalendarError(Exception):
    """A refusal shown as it is; nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def holidays() -> list[Holiday]:
    return list(db.session.execute(select(Holiday).order_by(Holiday.day)).scalars())


def add_holiday(admin, day: date, name: str, *, working: bool = False) -> Holiday:
    """放假 (or, with working, 调休上班) on `day`; only for a year chinese-calendar does not cover.
    `admin` is the administrator (a `Person`), None from the command line."""
    if admin is not None and not admin.has_role("admin"):
        raise CalendarError(_("只有系统管理员可以录入节假日。"))
    name = (name or "").strip()
    if not name:
        raise CalendarError(_("请填写节假日名称。"))
    if WorkingCalendar({}).is_working_day(day)[1]:
        raise CalendarError(_("%(year)s 年的节假日安排已由国务院公布并内置，无需录入。", year=day.year))
    if db.session.get(Holiday, day) is not None:
        raise CalendarError(_("%(day)s 已经录入过。", day=day.isoformat()))
    holiday = Holiday(
        day=day, name=name[:64], working=working, entered_by_id=admin.id if admin else None, entered_at=clock.now()
    )
    db.session.add(holiday)
    audit.record(
        "calendar.add", actor=admin, subject=f"holiday:{day.isoformat()}", detail={"name": name, "working": working}
    )
    db.session.flush()
    workdays.refresh()  # the SQL calendar counts with the new day from this commit on
    db.session.commit()
    return holiday


def remove_holiday(admin, day: date) -> None:
    if admin is not None and not admin.has_role("admin"):
        raise CalendarError(_("只有系统管理员可以删除节假日。"))
    holiday = db.session.get(Holiday, day)
    if holiday is None:
        raise CalendarError(_("%(day)s 没有录入。", day=day.isoformat()))
    db.session.delete(holiday)
    audit.record("calendar.remove", actor=admin, subject=f"holiday:{day.isoformat()}")
    db.session.flush()
    workdays.refresh()
    db.session.commit()
