"""电子监察 that acts: yellow and red cards (黄牌、红牌) issued to a department automatically,
督办 by a supervisor with a reply due, the department's reply, and trends over time.

A card is issued once per reason and subject:

* yellow, `due_soon`: a case under a running clock with one working day or less left;
* red, `overdue`: a case past its deadline (the dashboard's overdue list);
* red, `poor_rating`: a rectification task (整改, opened by a rating of 1-2) unanswered past its due.

`issue_cards()` is idempotent (a unique key per reason and subject, inserted with ON CONFLICT DO
NOTHING), so the Celery beat (`supervision.issue_cards`), `flask govservice tick` and a second
run the same day issue nothing more. Each run tells every department that got new cards, once:
its officers and its supervisors (and the supervisors bound to no department), through the
`people_alerted` signal that the notify domain turns into notices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from ..audit import services as audit
from ..calendar import workdays, working
from ..cases.models import Case
from ..catalog.models import ServiceItem
from ..core import clock, pdfkit
from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..core.pagination import Key, Page, keyset
from ..core.signals import people_alerted
from ..identity.models import Department, Person, StaffAssignment
from . import figures
from .models import RectificationTask
from .services import SupervisionError, in_scope, scope

COLOURS = {"yellow": _l("黄牌"), "red": _l("红牌")}
REASONS = {"due_soon": _l("临近超期"), "overdue": _l("超期未办结"), "poor_rating": _l("差评整改逾期未答复")}
STATUSES = {"issued": _l("待督办"), "urged": _l("督办中"), "replied": _l("已答复")}
MAX_TEXT = 2000


class SupervisionCard(db.Model):
    """One yellow or red card: why, to which department, about which case (and item)."""

    __tablename__ = "supervision_cards"
    __table_args__ = (
        UniqueConstraint("reason", "subject_id", name="uq_supervision_cards_reason_subject"),
        Index("ix_supervision_cards_department_issued", "department_id", "issued_on", "id"),
        Index("ix_supervision_cards_issued", "issued_on", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    colour: Mapped[str] = mapped_column(String(8), nullable=False)  # yellow | red
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # due_soon | overdue | poor_rating
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)  # the case, or the rectification task
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), nullable=False)
    deadline: Mapped[date | None] = mapped_column(Date)  # the case's, or the task's due
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="issued")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    urge_note: Mapped[str | None] = mapped_column(Text)  # 督办意见
    reply_due: Mapped[date | None] = mapped_column(Date)
    urged_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    item: Mapped[ServiceItem] = relationship()
    department: Mapped[Department | None] = relationship()
    urged_by: Mapped[Person | None] = relationship(foreign_keys=[urged_by_id])
    replied_by: Mapped[Person | None] = relationship(foreign_keys=[replied_by_id])

    @property
    def colour_label(self) -> str:
        return str(COLOURS[self.colour])

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])

    @property
    def status_label(self) -> str:
        return str(STATUSES[self.status])

    @property
    def reply_overdue(self) -> bool:
        return self.status == "urged" and self.reply_due is not None and clock.today() > self.reply_due


# --- Issuing ---------------------------------------------------------------------------------


def _insert():
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(SupervisionCard)


def _case_candidates(reason: str, cut: workdays.Cutoffs):
    """The open cases a `reason` card is due for and that have none yet, as insertable rows."""
    build = figures._overdue_query if reason == "overdue" else figures._soon_query
    query, _left = build(None, figures.Period(), cut)
    taken = select(SupervisionCard.id).where(SupervisionCard.reason == reason, SupervisionCard.subject_id == Case.id)
    return query.where(~taken.exists()).with_only_columns(
        literal("red" if reason == "overdue" else "yellow"),
        literal(reason),
        Case.id,
        Case.department_id,
        Case.id,
        Case.item_id,
        Case.deadline,
    )


def _rating_candidates(today: date):
    taken = select(SupervisionCard.id).where(
        SupervisionCard.reason == "poor_rating", SupervisionCard.subject_id == RectificationTask.id
    )
    return (
        select(
            literal("red"),
            literal("poor_rating"),
            RectificationTask.id,
            RectificationTask.department_id,
            RectificationTask.case_id,
            Case.item_id,
            RectificationTask.due,
        )
        .join(Case, Case.id == RectificationTask.case_id)
        .where(RectificationTask.status == "open", RectificationTask.due < today, ~taken.exists())
    )


@dataclass
class IssueReport:
    yellow: int = 0
    red: int = 0
    departments: dict = field(default_factory=dict)  # department id -> {"yellow": n, "red": m}


COLUMNS = ["colour", "reason", "subject_id", "department_id", "case_id", "item_id", "deadline"]


def issue_cards(today: date | None = None) -> IssueReport:
    """Issue every card that is due and not yet issued, tell each department concerned once, and
    commit. Running it again (the same day, or on another instance at once) issues nothing more."""
    today = today or clock.today()
    cut = workdays.cutoffs(today)
    now = clock.now()
    report = IssueReport()
    selects = [_case_candidates("overdue", cut), _case_candidates("due_soon", cut), _rating_candidates(today)]
    for candidates in selects:
        rows = candidates.add_columns(literal(today, Date), literal(now, UTCDateTime), literal("issued"), literal(1))
        statement = (
            _insert()
            .from_select(COLUMNS + ["issued_on", "issued_at", "status", "version"], rows)
            .on_conflict_do_nothing()
            .returning(SupervisionCard.id, SupervisionCard.colour, SupervisionCard.department_id)
        )
        for _id, colour, department_id in db.session.execute(statement):
            setattr(report, colour, getattr(report, colour) + 1)
            counts = report.departments.setdefault(department_id, {"yellow": 0, "red": 0})
            counts[colour] += 1
    if report.yellow or report.red:
        audit.record(
            "supervision.cards_issued",
            actor=None,
            subject=f"cards:{today.isoformat()}",
            detail={
                "yellow": report.yellow,
                "red": report.red,
                "departments": {str(k): v for k, v in report.departments.items()},
            },
        )
        for department_id, counts in report.departments.items():
            _alert_department(department_id, "card.issued", {"day": today.isoformat(), **counts})
    db.session.commit()
    return report


def _staff(role: str, department_id: int | None) -> list[int]:
    return list(
        db.session.execute(
            select(StaffAssignment.person_id)
            .where(StaffAssignment.role == role, StaffAssignment.department_id == department_id)
            .distinct()
        ).scalars()
    )


def _alert_department(department_id: int | None, kind: str, params: dict, *, officers: bool = True) -> None:
    """Notices to the department's officers (their 监察卡片 page) and its supervisors, bound to it
    or to no department (the supervision page), in the caller's transaction."""
    name = db.session.get(Department, department_id).name if department_id else ""
    params = dict(params, department=name)
    recipients = []
    if officers and department_id is not None:
        recipients += [(p, "cards.department", {}) for p in _staff("officer", department_id)]
    supervisors = set(_staff("supervisor", None)) | (
        set(_staff("supervisor", department_id)) if department_id else set()
    )
    recipients += [(p, "cards.supervision", {}) for p in sorted(supervisors)]
    people_alerted.send(current_app._get_current_object(), recipients=recipients, kind=kind, params=params)


# --- 督办 and the department's reply ----------------------------------------------------------


def get_card(card_id: int) -> SupervisionCard:
    card = db.session.get(SupervisionCard, card_id)
    if card is None:
        raise SupervisionError(_("监察卡片不存在。"))
    return card


def _text(value: str | None, empty_message) -> str:
    value = (value or "").strip()
    if not value:
        raise SupervisionError(empty_message)
    if len(value) > MAX_TEXT:
        raise SupervisionError(_("内容不能超过 %(n)s 个字。", n=MAX_TEXT))
    return value


def _guarded_update(card: SupervisionCard, expected_version, from_status: tuple, **values) -> None:
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError):
        expected_version = -1
    result = db.session.execute(
        update(SupervisionCard)
        .where(
            SupervisionCard.id == card.id,
            SupervisionCard.version == expected_version,
            SupervisionCard.status.in_(from_status),
        )
        .values(version=SupervisionCard.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise SupervisionError(_("该卡片已被他人处理，或页面已过期，请刷新后查看。"))


def urge(card_id: int, supervisor: Person, expected_version, note: str, reply_days) -> SupervisionCard:
    """督办: the supervisor asks the department for an answer within `reply_days` working days."""
    card = get_card(card_id)
    if not supervisor.has_role("supervisor") or not in_scope(supervisor, card.department_id):
        raise SupervisionError(_("只有该部门的督办人员可以督办此卡片。"))
    note = _text(note, _("请填写督办意见。"))
    try:
        days = int(reply_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 30:
        raise SupervisionError(_("答复期限请填写 1 到 30 个工作日。"))
    due, _provisional = working.add_working_days(clock.today(), days)
    _guarded_update(
        card,
        expected_version,
        ("issued", "urged"),
        status="urged",
        urge_note=note,
        reply_due=due,
        urged_by_id=supervisor.id,
        urged_at=clock.now(),
    )
    audit.record(
        "supervision.card_urge",
        actor=supervisor,
        subject=f"card:{card.id}",
        case_id=card.case_id,
        detail={"reply_due": due.isoformat()},
    )
    _alert_department(
        card.department_id, "card.urged", {"number": card.case.number, "due": due.isoformat(), "colour": card.colour}
    )
    db.session.commit()
    db.session.refresh(card)
    return card


def reply(card_id: int, officer: Person, expected_version, text: str) -> SupervisionCard:
    """The department's answer to a 督办, by one of its officers; the supervisor who urged is told."""
    card = get_card(card_id)
    if card.department_id is None or "officer" not in officer.roles(card.department_id):
        raise SupervisionError(_("只有该部门的审批人员可以答复此卡片。"))
    if card.status != "urged":
        raise SupervisionError(_("该卡片尚未督办或已答复。"))
    text = _text(text, _("请填写答复内容。"))
    _guarded_update(
        card,
        expected_version,
        ("urged",),
        status="replied",
        reply=text,
        replied_by_id=officer.id,
        replied_at=clock.now(),
    )
    audit.record("supervision.card_reply", actor=officer, subject=f"card:{card.id}", case_id=card.case_id)
    people_alerted.send(
        current_app._get_current_object(),
        recipients=[(card.urged_by_id, "cards.supervision", {})],
        kind="card.replied",
        params={"number": card.case.number, "department": card.department.name if card.department else ""},
    )
    db.session.commit()
    db.session.refresh(card)
    return card


# --- Lists and trends ------------------------------------------------------------------------


def _with_rows(query):
    return query.options(
        joinedload(SupervisionCard.case), joinedload(SupervisionCard.item), joinedload(SupervisionCard.department)
    )


def page_for_supervisor(
    supervisor: Person, token: str | None = None, *, status: str | None = None, size: int | None = None
) -> Page:
    """The cards in the supervisor's scope, newest first, a page at a time."""
    query = _with_rows(select(SupervisionCard))
    departments = scope(supervisor)
    if departments is not None:
        query = query.where(SupervisionCard.department_id.in_(departments))
    if status in STATUSES:
        query = query.where(SupervisionCard.status == status)
    return keyset(
        query,
        [Key(SupervisionCard.issued_on, descending=True), Key(SupervisionCard.id, descending=True)],
        token,
        size=size,
    )


def page_for_officer(officer: Person, token: str | None = None, *, size: int | None = None) -> Page:
    """The cards of the officer's departments, newest first."""
    departments = [d.id for d in officer.departments("officer")]
    query = _with_rows(select(SupervisionCard)).where(SupervisionCard.department_id.in_(departments or [-1]))
    return keyset(
        query,
        [Key(SupervisionCard.issued_on, descending=True), Key(SupervisionCard.id, descending=True)],
        token,
        size=size,
    )


@dataclass
class Trends:
    months: list[str]
    by_department: list[tuple[str, dict]]  # name -> {month: (yellow, red)}
    by_item: list[tuple[str, dict]]
    open_count: int = 0
    red_count: int = 0


def _month(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def trends(supervisor: Person, months: int = 6, today: date | None = None) -> Trends:
    """Cards issued per month (the last `months`), by department and by item: two GROUP BYs on
    the issued index, whatever the number of cards."""
    today = today or clock.today()
    first = date(today.year, today.month, 1)
    for _month_back in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    labels, cursor = [], first
    while cursor <= today:
        labels.append(cursor.strftime("%Y-%m"))
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    departments = scope(supervisor)
    month = _month(SupervisionCard.issued_on)

    def grouped(column, join_model):
        query = (
            select(join_model.name, month, SupervisionCard.colour, func.count())
            .join(join_model, join_model.id == column)
            .where(SupervisionCard.issued_on >= first)
            .group_by(join_model.name, month, SupervisionCard.colour)
        )
        if departments is not None:
            query = query.where(SupervisionCard.department_id.in_(departments))
        table: dict[str, dict] = defaultdict(lambda: {m: [0, 0] for m in labels})
        for name, m, colour, n in db.session.execute(query):
            if m in labels:
                table[name][m][0 if colour == "yellow" else 1] += n
        return sorted(table.items(), key=lambda kv: -sum(y + r for y, r in kv[1].values()))

    counts = select(func.count()).select_from(SupervisionCard).where(SupervisionCard.status != "replied")
    red = counts.where(SupervisionCard.colour == "red")
    if departments is not None:
        counts = counts.where(SupervisionCard.department_id.in_(departments))
        red = red.where(SupervisionCard.department_id.in_(departments))
    return Trends(
        labels,
        grouped(SupervisionCard.department_id, Department),
        grouped(SupervisionCard.item_id, ServiceItem),
        db.session.execute(counts).scalar(),
        db.session.execute(red).scalar(),
    )


def may_reply(officer: Person, card: SupervisionCard) -> bool:
    return card.status == "urged" and card.department_id is not None and "officer" in officer.roles(card.department_id)


# --- Demo ----------------------------------------------------------------------------------------

DEMO_KEY = "demo-card-overdue"


def load_demo() -> list[str]:
    """An overdue case of 张三 (accepted at the window three weeks ago, never claimed) and the
    cards due today: what 孙强 and 刘洋 see under 监察卡片. Running it twice changes nothing."""
    from datetime import timedelta

    from ..cases import services as cases
    from ..cases.uploads import Upload
    from ..catalog import services as catalog
    from ..identity.devidp.identities import IDENTITIES
    from ..identity.services import person_for

    def demo_person(name):
        identity = next(i for i in IDENTITIES if i["name"] == name)
        return person_for(identity["id_number"], identity["name"])

    applicant, clerk = demo_person("张三"), demo_person("赵敏")
    db.session.commit()
    if cases.by_idempotency_key(applicant.id, DEMO_KEY) is not None:
        return []
    extensions = current_app.extensions
    kept = extensions.get("clock")
    extensions["clock"] = clock.FixedClock(clock.now() - timedelta(days=21))
    try:
        item = catalog.current_item("scjgj-gtgsh-sldj")
        answers = {
            "operator_name": applicant.name,
            "operator_id_number": applicant.id_number,
            "business_name": "北京市朝阳区张三早餐店",
            "composition": "个人经营",
            "address": "北京市朝阳区示例路16号",
            "scope": "早餐、小吃",
            "capital": "3",
            "phone": "13800000001",
        }
        case, _ = cases.intake_at_window(
            clerk, applicant, item, answers, [Upload("premises", "租赁合同.pdf", pdfkit.sample_pdf())], DEMO_KEY
        )
        cases.accept(case.id, clerk, case.version)
    finally:
        if kept is None:
            extensions.pop("clock", None)
        else:
            extensions["clock"] = kept
    report = issue_cards()
    return [f"supervision: overdue demo case {case.number}, cards issued: {report.yellow} yellow, {report.red} red"]
