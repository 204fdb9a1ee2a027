"""The read side of cases: the lists (inbox, the window's queues, 我的办件), a page at a time.

Each list is one query for its page, ordered by a unique key its index serves, with what the
page shows loaded in the same round trips (joined or select-in, never a query per row), and
the working days left computed in SQL against the calendar table (`workdays`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from ..calendar import workdays, working
from ..calendar.models import CalendarDay
from ..catalog.models import ServiceItem
from ..core import clock
from ..core.extensions import db
from ..core.pagination import Key, Page, keyset
from ..identity.models import Person
from . import workflow
from .models import OPEN_STATES, ApplicationDraft, Case, CaseStep

INBOX_STATES = ("accepted", "in_review")
RETURNED_STATES = ("supplement_requested", "submitted")


@dataclass
class InboxRow:
    step: CaseStep
    days_left: int | None

    @property
    def case(self) -> Case:
        return self.step.case

    @property
    def level(self) -> str:
        return deadline_level(self.days_left, self.step.case.paused_since is not None)


def _waiting_for(departments: list[int]):
    """A step of one of `departments` in the case's stage under review, waiting for a decision."""
    return (
        (CaseStep.stage == Case.current_stage)
        & CaseStep.department_id.in_(departments)
        & or_(
            CaseStep.status.in_(workflow.OPEN) & Case.state.in_(INBOX_STATES),
            (CaseStep.status == workflow.RETURNED) & Case.state.in_(RETURNED_STATES),
        )
    )


def department_inbox(
    officer: Person, token: str | None = None, *, size: int | None = None, param: str = "page"
) -> Page:
    """The steps waiting for the officer's departments in the stage under review, by deadline
    (then case, then step: a stable order when deadlines tie); each with its working days left.

    The page walks the open cases in (deadline, id) order on their partial index and keeps those
    with a step waiting for one of the departments (an EXISTS probe on the step's unique index),
    so it reads about a page's worth of rows however many cases are open; the steps of the
    page's cases follow in one more query. A page holds `size` cases (a joint stage may give one
    case a row per department of the officer's)."""
    departments = [d.id for d in officer.departments("officer")]
    today = workdays.ordinal(clock.today())
    waiting = select(CaseStep.id).where(CaseStep.case_id == Case.id, _waiting_for(departments)).exists()
    under_review = select(Case).where(Case.state.in_(INBOX_STATES + RETURNED_STATES), Case.deadline.is_not(None))
    query, left = with_days_left(under_review.where(waiting), today)
    query = query.add_columns(left).options(joinedload(Case.item))
    page = keyset(query, [Key(Case.deadline), Key(Case.id)], token, size=size, param=param, walk=under_review)
    cases = {c.id: (c, days) for c, days in page.items}
    steps = db.session.execute(
        select(CaseStep)
        .join(CaseStep.case)
        .where(CaseStep.case_id.in_(cases), _waiting_for(departments))
        .options(contains_eager(CaseStep.case), joinedload(CaseStep.department))
        .order_by(CaseStep.id)
    ).scalars()
    by_case: dict[int, list[CaseStep]] = {}
    for step in steps:
        by_case.setdefault(step.case_id, []).append(step)
    page.items = [InboxRow(step, days) for case_id, (_case, days) in cases.items() for step in by_case.get(case_id, [])]
    return page


def _window_list(query, keys, token, size, param, viewer: Person | None = None) -> Page:
    if viewer is not None:  # the window sees its own hall's counter cases and every online one
        from ..access import visible_cases

        query = query.where(visible_cases(viewer, ("clerk",)))
    return keyset(query.options(joinedload(Case.item), joinedload(Case.applicant)), keys, token, size=size, param=param)


def intake_queue(
    token: str | None = None, *, size: int | None = None, param: str = "queue", viewer: Person | None = None
) -> Page:
    """Cases waiting for the window's pre-review (online and window intake, and answered
    supplements), oldest submission first."""
    return _window_list(
        select(Case).where(Case.state == "submitted"),
        [Key(Case.submitted_at), Key(Case.id)],
        token,
        size,
        param,
        viewer,
    )


def awaiting_supplement(
    token: str | None = None, *, size: int | None = None, param: str = "supplements", viewer: Person | None = None
) -> Page:
    return _window_list(
        select(Case).where(Case.state == "supplement_requested"),
        [Key(Case.submitted_at), Key(Case.id)],
        token,
        size,
        param,
        viewer,
    )


def awaiting_hand_over(
    token: str | None = None, *, size: int | None = None, param: str = "hand_over", viewer: Person | None = None
) -> Page:
    """Window cases whose result is ready and not yet handed over (统一出件)."""
    return _window_list(
        select(Case).where(
            Case.state == "completed",
            Case.channel == "window",
            Case.handed_over_at.is_(None),
            Case.decision.is_not(None),
        ),
        [Key(Case.completed_at), Key(Case.id)],
        token,
        size,
        param,
        viewer,
    )


@dataclass
class MyCase:
    case: Case
    days_left: int | None


def cases_of(applicant: Person, token: str | None = None, *, size: int = 20, param: str = "page") -> Page:
    """我的办件: the applicant's cases, newest first, with their steps and departments (the
    progress column) and the working days left."""
    query, left = with_days_left(select(Case).where(Case.applicant_id == applicant.id), workdays.ordinal(clock.today()))
    query = query.add_columns(left).options(
        joinedload(Case.item).joinedload(ServiceItem.department),
        selectinload(Case.steps).joinedload(CaseStep.department),
    )
    page = keyset(query, [Key(Case.id, descending=True)], token, size=size, param=param)
    page.items = [MyCase(case, days) for case, days in page.items]
    return page


def drafts_of(applicant: Person, token: str | None = None, *, size: int = 20, param: str = "drafts") -> Page:
    """The applicant's saved drafts (草稿), the latest saved first."""
    query = (
        select(ApplicationDraft)
        .where(ApplicationDraft.applicant_id == applicant.id)
        .options(joinedload(ApplicationDraft.item))
    )
    return keyset(
        query,
        [Key(ApplicationDraft.updated_at, descending=True), Key(ApplicationDraft.id, descending=True)],
        token,
        size=size,
        param=param,
    )


# --- Working days left, in SQL ---------------------------------------------------------------


def days_left(case: Case, today: date, calendar: working.WorkingCalendar) -> int | None:
    """Working days left until the deadline (negative: overdue); a paused clock stands still.
    For one case on its page; the lists compute the same in SQL (`with_days_left`)."""
    if case.deadline is None or case.state not in OPEN_STATES or case.accepted_at is None:
        return None
    return calendar.working_days_between(case.paused_since or today, case.deadline)


def with_days_left(query, today_ordinal: int, case_entity=Case):
    """`query` joined to the calendar at the case's deadline and pause, and the expression of its
    working days left (negative: overdue; a paused clock counts from the pause), NULL for a case
    not under the clock. The same figure as `days_left`."""
    at_deadline, at_pause = aliased(CalendarDay), aliased(CalendarDay)
    query = query.outerjoin(at_deadline, at_deadline.day == case_entity.deadline).outerjoin(
        at_pause, at_pause.day == case_entity.paused_since
    )
    left = sql_case(
        (
            case_entity.state.in_(OPEN_STATES) & case_entity.accepted_at.is_not(None),
            at_deadline.ordinal - func.coalesce(at_pause.ordinal, today_ordinal),
        ),
        else_=None,
    )
    return query, left


def deadline_level(days_left: int | None, paused: bool) -> str:
    """The mark a list shows: paused, overdue (red), due (yellow: one working day or less), ok, none."""
    if days_left is None:
        return "none"
    if paused:
        return "paused"
    if days_left < 0:
        return "overdue"
    return "due" if days_left <= 1 else "ok"
