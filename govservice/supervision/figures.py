"""电子监察: the supervision figures, each defined once here and shown, charted and exported.

- Cases are those submitted (Beijing date) within the chosen period, in the supervisor's
  departments (the lead department, 承办部门), drafts excluded.
- On-time completion rate: of the cases accepted and completed, the share completed on or
  before their deadline (the deadline moves by the working days a supplement paused it).
- Working days to complete: working days from acceptance to completion, less the paused ones.
- Overdue: open cases (accepted, under review, approved, or back at the window after a
  supplement) whose deadline has passed; a paused case counts if it was already late when paused.
- Due soon: open cases with one working day or less left.

Every figure is aggregate SQL: the counts, the on-time rate and the working days to complete
are one GROUP BY over the dashboard's covering index (a case stores its working days and
whether it was on time when it completes, since it never changes after), so the dashboard
costs a handful of queries whatever the number of cases; the overdue and due-soon
lists are pages on the open cases' (deadline, id) index, and the CSV export streams its rows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy import case as when
from sqlalchemy.orm import aliased, joinedload

from ..calendar import workdays
from ..calendar.models import CalendarDay
from ..cases.models import Case
from ..cases.queries import with_days_left
from ..cases.statemachine import STATE_LABELS
from ..catalog.models import ServiceItem
from ..core import clock
from ..core.extensions import db
from ..core.pagination import DEFAULT_SIZE, Key, Page, keyset
from ..identity.models import Department
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
    """A case on the overdue or due-soon list, with its working days left (from SQL)."""

    case: Case
    days_left: int | None = None


@dataclass
class Figures:
    total: int = 0
    by_state: list[tuple[str, int]] = field(default_factory=list)
    by_department: list[tuple[str, int]] = field(default_factory=list)
    by_item: list[tuple[str, int]] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    completed: int = 0  # accepted and completed
    on_time: int = 0
    on_time_rate: float | None = None  # percent
    average_days: float | None = None
    overdue_count: int = 0
    due_soon_count: int = 0
    overdue: Page = field(default_factory=lambda: Page([], DEFAULT_SIZE))  # the most overdue first
    due_soon: Page = field(default_factory=lambda: Page([], DEFAULT_SIZE))
    ratings: int = 0
    average_rating: float | None = None
    rating_counts: list[tuple[int, int]] = field(default_factory=list)
    rating_by_department: list[tuple[str, int, float]] = field(default_factory=list)
    open_rectifications: int = 0


def local_date(value: datetime) -> date:
    return value.astimezone(clock.BEIJING).date()


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


def _names(model, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def _counts(figures: Figures, departments, period) -> None:
    """Every count, the on-time rate and the working days to complete, in one pass over the
    figures index: a completed case carries its working days and whether it was on time."""
    rows = db.session.execute(
        _in_view(
            select(
                Case.state,
                Case.department_id,
                Case.item_id,
                Case.channel,
                func.count(),
                func.count(Case.on_time),
                func.sum(when((Case.on_time.is_(True), 1), else_=0)),
                func.sum(Case.working_days),
            ),
            departments,
            period,
        ).group_by(Case.state, Case.department_id, Case.item_id, Case.channel)
    ).all()
    department_names, item_names = _names(Department, (r[1] for r in rows)), _names(ServiceItem, (r[2] for r in rows))
    states, by_department, by_item, by_channel = Counter(), Counter(), Counter(), Counter()
    timed = on_time = used = 0
    for state, department_id, item_id, channel, n, n_timed, n_on_time, days in rows:
        states[state] += n
        by_department[department_names.get(department_id, "—")] += n
        by_item[item_names.get(item_id, "—")] += n
        by_channel[channel_label(channel)] += n
        if state == "completed":
            timed, on_time, used = timed + n_timed, on_time + int(n_on_time or 0), used + int(days or 0)
    figures.total = sum(states.values())
    figures.by_state = [(str(label), states[s]) for s, label in STATE_LABELS.items() if states[s]]
    figures.by_department, figures.by_item, figures.by_channel = (
        _ranked(by_department),
        _ranked(by_item),
        _ranked(by_channel),
    )
    figures.completed, figures.on_time = timed, on_time
    if timed:
        figures.on_time_rate = round(100 * on_time / timed, 1)
        figures.average_days = round(used / timed, 1)


def _under_clock(departments, period):
    return _in_view(select(Case), departments, period).where(
        Case.state.in_(OPEN_REVIEW), Case.accepted_at.is_not(None), Case.deadline.is_not(None)
    )


def _overdue_query(departments, period, cut: workdays.Cutoffs):
    """Overdue: a running clock past its deadline, or a paused one already late when paused.
    Either way the deadline is before today's cut-off, a range on the open cases' index."""
    query, left = with_days_left(_under_clock(departments, period), cut.today_ordinal)
    query = query.where(Case.deadline < cut.overdue_before, or_(Case.paused_since.is_(None), left < 0))
    return query, left


def _soon_query(departments, period, cut: workdays.Cutoffs):
    query, left = with_days_left(_under_clock(departments, period), cut.today_ordinal)
    return query.where(
        Case.paused_since.is_(None), Case.deadline >= cut.overdue_before, Case.deadline < cut.soon_before
    ), left


def _listed(query, left, token, size, param) -> Page:
    query = query.add_columns(left).options(joinedload(Case.item), joinedload(Case.department))
    page = keyset(query, [Key(Case.deadline), Key(Case.id)], token, size=size, param=param)
    page.items = [CaseRow(c, n) for c, n in page.items]
    return page


def _count(query) -> int:
    return db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar()


def _ratings(departments, period: Period):
    """(rating, department, count). An evaluation carries its case's lead department and only a
    completed case is rated, so without a period the cases table is not needed at all."""
    query = select(Evaluation.rating, Evaluation.department_id, func.count()).group_by(
        Evaluation.rating, Evaluation.department_id
    )
    if period.start or period.end:
        return _in_view(query.join(Case, Evaluation.case_id == Case.id), departments, period)
    if departments is not None:
        query = query.where(Evaluation.department_id.in_(departments))
    return query


def compute(
    departments: list[int] | None,
    period: Period | None = None,
    today: date | None = None,
    *,
    overdue_token: str | None = None,
    soon_token: str | None = None,
    size: int = DEFAULT_SIZE,
) -> Figures:
    period = period or Period()
    cut = workdays.cutoffs(today or clock.today())
    if db.session.get_bind().dialect.name == "postgresql":
        # The aggregates sort and hash a few hundred thousand index entries at a city's size:
        # in memory, not in temporary files (for this transaction only).
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    figures = Figures()
    _counts(figures, departments, period)
    overdue, left = _overdue_query(departments, period, cut)
    figures.overdue_count = _count(overdue.with_only_columns(Case.id))
    figures.overdue = _listed(overdue, left, overdue_token, size, "overdue")
    soon, left = _soon_query(departments, period, cut)
    figures.due_soon_count = _count(soon.with_only_columns(Case.id))
    figures.due_soon = _listed(soon, left, soon_token, size, "soon")

    ratings = db.session.execute(_ratings(departments, period)).all()
    figures.ratings = sum(n for _r, _d, n in ratings)
    if figures.ratings:
        figures.average_rating = round(sum(r * n for r, _d, n in ratings) / figures.ratings, 2)
    stars = Counter()
    per_department: dict[str, list[int]] = {}
    names = _names(Department, (d for _r, d, _n in ratings))
    for rating, department_id, n in ratings:
        stars[rating] += n
        totals = per_department.setdefault(names.get(department_id, "—"), [0, 0])
        totals[0] += n
        totals[1] += rating * n
    figures.rating_counts = [(n, stars[n]) for n in range(5, 0, -1)]
    figures.rating_by_department = sorted(
        ((name, n, round(total / n, 2)) for name, (n, total) in per_department.items()), key=lambda t: t[0]
    )
    open_tasks = select(func.count()).select_from(RectificationTask).where(RectificationTask.status == "open")
    if departments is not None:
        open_tasks = open_tasks.where(RectificationTask.department_id.in_(departments))
    figures.open_rectifications = db.session.execute(open_tasks).scalar()
    return figures


# --- Every case of the view, one row each, streamed (the CSV export) ------------------------------


@dataclass
class ExportRow:
    number: str
    item_code: str
    item_name: str
    department: str | None
    channel: str
    state: str
    submitted_at: datetime | None
    accepted_at: datetime | None
    deadline: date | None
    provisional: bool
    completed_at: datetime | None
    used_days: int | None
    on_time: bool | None
    days_left: int | None
    rating: int | None


def case_rows(
    departments: list[int] | None, period: Period | None = None, today: date | None = None, *, batch: int = 2000
) -> Iterator[ExportRow]:
    """Every case in view with its figures, by id, fetched in batches from a server-side cursor:
    memory stays flat however many cases there are."""
    period = period or Period()
    cut = workdays.cutoffs(today or clock.today())
    at_a, at_c = aliased(CalendarDay), aliased(CalendarDay)
    completed = and_(
        Case.state == "completed",
        Case.accepted_at.is_not(None),
        Case.completed_at.is_not(None),
        Case.deadline.is_not(None),
    )
    done = workdays.beijing_date(Case.completed_at)
    query = (
        _in_view(
            select(
                Case.number,
                ServiceItem.code,
                ServiceItem.name,
                Department.name,
                Case.channel,
                Case.state,
                Case.submitted_at,
                Case.accepted_at,
                Case.deadline,
                Case.deadline_provisional,
                Case.completed_at,
                when((completed, at_c.ordinal - at_a.ordinal - Case.paused_days), else_=None),
                when((completed, done <= Case.deadline), else_=None),
            ),
            departments,
            period,
        )
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .outerjoin(at_a, at_a.day == workdays.beijing_date(Case.accepted_at))
        .outerjoin(at_c, at_c.day == done)
    )
    query, left = with_days_left(query, cut.today_ordinal)
    query = (
        query.add_columns(left, Evaluation.rating)
        .outerjoin(Evaluation, Evaluation.case_id == Case.id)
        .order_by(Case.id)
        .execution_options(yield_per=batch)
    )
    for row in db.session.execute(query):
        values = list(row)
        values[12] = None if values[12] is None else bool(values[12])
        yield ExportRow(*values)


def bars(rows: list[tuple[str, int]], *, width: int = 100) -> list[tuple[str, int, float]]:
    """(label, value, bar length in percent of the largest) for the SVG charts."""
    top = max((v for _label, v in rows), default=0) or 1
    return [(label, value, round(width * value / top, 1)) for label, value in rows]


# --- CSV export (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese) ----------


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def cases_csv(rows: Iterator[ExportRow]) -> Iterator[str]:
    """The export, line by line (UTF-8 with a byte-order mark, so spreadsheet programs read the
    Chinese): the response streams it as the rows come from the database."""
    yes, no = _("是"), _("否")
    yield "\ufeff" + _csv_line(
        [
            _("办件编号"),
            _("事项编码"),
            _("事项名称"),
            _("承办部门"),
            _("渠道"),
            _("状态"),
            _("提交时间"),
            _("受理时间"),
            _("办理截止日期"),
            _("截止日期暂定"),
            _("办结时间"),
            _("用时（工作日）"),
            _("按时办结"),
            _("剩余工作日"),
            _("评价"),
        ]
    )
    states = {k: str(v) for k, v in STATE_LABELS.items()}
    channels = {k: channel_label(k) for k in ("online", "window")}
    for r in rows:
        yield _csv_line(
            [
                r.number,
                r.item_code,
                r.item_name,
                r.department or "",
                channels.get(r.channel, r.channel),
                states.get(r.state, r.state),
                _stamp(r.submitted_at),
                _stamp(r.accepted_at),
                r.deadline.isoformat() if r.deadline else "",
                yes if r.provisional else "",
                _stamp(r.completed_at),
                "" if r.used_days is None else r.used_days,
                "" if r.on_time is None else (yes if r.on_time else no),
                "" if r.days_left is None else r.days_left,
                "" if r.rating is None else r.rating,
            ]
        )


def summary_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("类别"), _("项目"), _("数值")])
    writer.writerow([_("总量"), _("办件总数"), figures.total])
    for section, rows in (
        (_("按状态"), figures.by_state),
        (_("按部门"), figures.by_department),
        (_("按事项"), figures.by_item),
        (_("按渠道"), figures.by_channel),
    ):
        for label, value in rows:
            writer.writerow([section, label, value])
    timing, rated = _("时效"), _("评价")
    writer.writerow([timing, _("已受理并办结"), figures.completed])
    writer.writerow([timing, _("按时办结"), figures.on_time])
    writer.writerow([timing, _("按时办结率（%）"), _blank(figures.on_time_rate)])
    writer.writerow([timing, _("平均办理用时（工作日）"), _blank(figures.average_days)])
    writer.writerow([timing, _("超期未办结"), figures.overdue_count])
    writer.writerow([timing, _("临近超期"), figures.due_soon_count])
    writer.writerow([rated, _("评价数"), figures.ratings])
    writer.writerow([rated, _("平均分"), _blank(figures.average_rating)])
    for stars, count in figures.rating_counts:
        writer.writerow([rated, _("%(n)s分", n=stars), count])
    writer.writerow([rated, _("待答复整改任务"), figures.open_rectifications])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _blank(value) -> str:
    return "" if value is None else str(value)


def _stamp(value: datetime | None) -> str:
    if not value:
        return ""
    if value.tzinfo is None:  # a bare column read on SQLite is naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M")
