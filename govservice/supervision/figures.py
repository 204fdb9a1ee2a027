"""电子监察: the supervision figures, each defined once here and shown, charted and exported.

- Cases are those submitted (Beijing date) within the chosen period, in the supervisor's
  departments (the lead department, 承办部门), drafts excluded.
- On-time completion rate: of the cases accepted and completed, the share completed on or
  before their deadline (the deadline moves by the working days a supplement paused it).
- Working days to complete: working days from acceptance to completion, less the paused ones.
- Overdue: open cases (accepted, under review, approved, or back at the window after a
  supplement) whose deadline has passed; a paused case counts if it was already late when paused.
- Due soon: open cases with one working day or less left.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..cases.models import Case
from ..cases.statemachine import STATE_LABELS
from ..extensions import db
from .models import Evaluation, RectificationTask

OPEN_REVIEW = ("accepted", "in_review", "approved", "supplement_requested", "submitted")


@dataclass
class Period:
    start: date | None = None
    end: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        lo = datetime.combine(self.start, time(), clock.BEIJING) if self.start else None
        hi = datetime.combine(self.end + timedelta(days=1), time(), clock.BEIJING) if self.end else None
        return lo, hi


@dataclass
class CaseRow:
    case: Case
    used_days: int | None = None       # working days from acceptance to completion, less paused
    on_time: bool | None = None
    days_left: int | None = None       # for open cases under the clock


@dataclass
class Figures:
    total: int = 0
    by_state: list[tuple[str, int]] = field(default_factory=list)
    by_department: list[tuple[str, int]] = field(default_factory=list)
    by_item: list[tuple[str, int]] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    completed: int = 0                 # accepted and completed
    on_time: int = 0
    on_time_rate: float | None = None  # percent
    average_days: float | None = None
    overdue: list[CaseRow] = field(default_factory=list)
    due_soon: list[CaseRow] = field(default_factory=list)
    ratings: int = 0
    average_rating: float | None = None
    rating_counts: list[tuple[int, int]] = field(default_factory=list)
    rating_by_department: list[tuple[str, int, float]] = field(default_factory=list)
    open_rectifications: int = 0
    rows: list[CaseRow] = field(default_factory=list)


def local_date(value: datetime) -> date:
    return value.astimezone(clock.BEIJING).date()


def days_left(case: Case, today: date, calendar: clock.WorkingCalendar) -> int | None:
    """Working days left until the deadline (negative: overdue); a paused clock stands still."""
    if case.deadline is None or case.state not in OPEN_REVIEW or case.accepted_at is None:
        return None
    return calendar.working_days_between(case.paused_since or today, case.deadline)


def _in_view(query, departments: list[int] | None, period: Period):
    query = query.where(Case.state != "draft")
    if departments is not None:
        query = query.where(Case.department_id.in_(departments))
    lo, hi = period.bounds()
    if lo is not None:
        query = query.where(Case.submitted_at >= lo)
    if hi is not None:
        query = query.where(Case.submitted_at < hi)
    return query


def channel_label(channel: str) -> str:
    return {"online": _("网上申请"), "window": _("窗口受理")}.get(channel, channel)


def _ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def compute(departments: list[int] | None, period: Period | None = None, today: date | None = None) -> Figures:
    period = period or Period()
    today = today or clock.today()
    calendar = clock.WorkingCalendar()
    cases = list(db.session.execute(_in_view(select(Case), departments, period).order_by(Case.id)
                                    .options(selectinload(Case.evaluation))).scalars())
    figures = Figures(total=len(cases))
    states = Counter(c.state for c in cases)
    figures.by_state = [(str(label), states[s]) for s, label in STATE_LABELS.items() if states[s]]
    figures.by_department = _ranked(Counter(c.department.name if c.department else "—" for c in cases))
    figures.by_item = _ranked(Counter(c.item.name for c in cases))
    figures.by_channel = _ranked(Counter({channel_label(k): v for k, v in Counter(c.channel for c in cases).items()}))

    used = []
    for case in cases:
        row = CaseRow(case)
        if case.state == "completed" and case.accepted_at and case.completed_at and case.deadline:
            done = local_date(case.completed_at)
            row.used_days = calendar.working_days_between(local_date(case.accepted_at), done) - case.paused_days
            row.on_time = done <= case.deadline
            used.append(row.used_days)
            figures.completed += 1
            figures.on_time += row.on_time
        row.days_left = days_left(case, today, calendar)
        if row.days_left is not None:
            if row.days_left < 0:
                figures.overdue.append(row)
            elif row.days_left <= 1 and case.paused_since is None:
                figures.due_soon.append(row)
        figures.rows.append(row)
    if figures.completed:
        figures.on_time_rate = round(100 * figures.on_time / figures.completed, 1)
        figures.average_days = round(sum(used) / len(used), 1)
    figures.overdue.sort(key=lambda r: (r.days_left, r.case.id))
    figures.due_soon.sort(key=lambda r: (r.days_left, r.case.id))

    evaluations = list(db.session.execute(
        _in_view(select(Evaluation).join(Case, Evaluation.case_id == Case.id), departments, period)).scalars())
    figures.ratings = len(evaluations)
    if evaluations:
        figures.average_rating = round(sum(e.rating for e in evaluations) / len(evaluations), 2)
    stars = Counter(e.rating for e in evaluations)
    figures.rating_counts = [(n, stars[n]) for n in range(5, 0, -1)]
    per_department: dict[str, list[int]] = {}
    for e in evaluations:
        per_department.setdefault(e.department.name if e.department else "—", []).append(e.rating)
    figures.rating_by_department = sorted(
        ((name, len(r), round(sum(r) / len(r), 2)) for name, r in per_department.items()), key=lambda t: t[0])
    open_tasks = select(RectificationTask).where(RectificationTask.status == "open")
    if departments is not None:
        open_tasks = open_tasks.where(RectificationTask.department_id.in_(departments))
    figures.open_rectifications = len(db.session.execute(open_tasks).scalars().all())
    return figures


def bars(rows: list[tuple[str, int]], *, width: int = 100) -> list[tuple[str, int, float]]:
    """(label, value, bar length in percent of the largest) for the SVG charts."""
    top = max((v for _label, v in rows), default=0) or 1
    return [(label, value, round(width * value / top, 1)) for label, value in rows]


# --- CSV export (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese) ----------

def cases_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    yes, no = _("是"), _("否")
    writer.writerow([_("办件编号"), _("事项编码"), _("事项名称"), _("承办部门"), _("渠道"), _("状态"), _("提交时间"),
                     _("受理时间"), _("办理截止日期"), _("截止日期暂定"), _("办结时间"), _("用时（工作日）"),
                     _("按时办结"), _("剩余工作日"), _("评价")])
    states = {k: str(v) for k, v in STATE_LABELS.items()}
    channels = {k: channel_label(k) for k in ("online", "window")}
    for row in figures.rows:
        c = row.case
        writer.writerow([
            c.number, c.item.code, c.item.name, c.department.name if c.department else "",
            channels.get(c.channel, c.channel), states.get(c.state, c.state), _stamp(c.submitted_at),
            _stamp(c.accepted_at),
            c.deadline.isoformat() if c.deadline else "", yes if c.deadline_provisional else "",
            _stamp(c.completed_at), "" if row.used_days is None else row.used_days,
            "" if row.on_time is None else (yes if row.on_time else no),
            "" if row.days_left is None else row.days_left, c.evaluation.rating if c.evaluation else "",
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def summary_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("类别"), _("项目"), _("数值")])
    writer.writerow([_("总量"), _("办件总数"), figures.total])
    for section, rows in ((_("按状态"), figures.by_state), (_("按部门"), figures.by_department),
                          (_("按事项"), figures.by_item), (_("按渠道"), figures.by_channel)):
        for label, value in rows:
            writer.writerow([section, label, value])
    timing, rated = _("时效"), _("评价")
    writer.writerow([timing, _("已受理并办结"), figures.completed])
    writer.writerow([timing, _("按时办结"), figures.on_time])
    writer.writerow([timing, _("按时办结率（%）"), _blank(figures.on_time_rate)])
    writer.writerow([timing, _("平均办理用时（工作日）"), _blank(figures.average_days)])
    writer.writerow([timing, _("超期未办结"), len(figures.overdue)])
    writer.writerow([timing, _("临近超期"), len(figures.due_soon)])
    writer.writerow([rated, _("评价数"), figures.ratings])
    writer.writerow([rated, _("平均分"), _blank(figures.average_rating)])
    for stars, count in figures.rating_counts:
        writer.writerow([rated, _("%(n)s分", n=stars), count])
    writer.writerow([rated, _("待答复整改任务"), figures.open_rectifications])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _blank(value) -> str:
    return "" if value is None else str(value)


def _stamp(value: datetime | None) -> str:
    return value.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""
