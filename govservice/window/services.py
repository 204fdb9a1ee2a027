"""The general window (综合窗口): queue tickets, identifying the applicant at the counter
against the population registry, and filing the application on their behalf.

The case transitions themselves (受理, 一次性告知, 不予受理, 出件) are the cases domain's
service functions; this module adds what happens only at a counter.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from ..audit import services as audit
from ..cases import services as cases
from ..cases.models import Case
from ..cases.uploads import Upload
from ..catalog.models import ServiceItem
from ..core import clock
from ..core.counters import next_value
from ..core.extensions import db
from ..identity.idnumbers import InvalidNumber, normalise_id_number
from ..identity.models import Person, ServiceHall
from ..identity.services import person_for
from ..registry import services as registry
from . import credit_checks
from .models import QueueTicket


class WindowError(Exception):
    """A refusal shown to the clerk as it is; nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- Queue tickets (叫号) ------------------------------------------------------------------


def hall(code: str) -> ServiceHall | None:
    return db.session.execute(select(ServiceHall).where(ServiceHall.code == code)).scalar_one_or_none()


def halls() -> list[ServiceHall]:
    return list(db.session.execute(select(ServiceHall).order_by(ServiceHall.code)).scalars())


def clerk_halls(clerk: Person) -> list[ServiceHall]:
    """The halls the clerk works at; a clerk bound to none serves every hall."""
    bound = [a.hall for a in clerk.assignments if a.role == "clerk" and a.hall is not None]
    return bound or halls()


def issue_ticket(hall_code: str) -> QueueTicket:
    """取号 at the hall's machine: today's next number, unique under concurrency (a locked counter)."""
    where = hall(hall_code)
    if where is None:
        raise WindowError(_("没有这个服务大厅。"))
    today = clock.today()
    ticket = QueueTicket(
        hall_id=where.id,
        day=today,
        seq=next_value(f"ticket:{where.code}:{today.isoformat()}"),
        status="waiting",
        issued_at=clock.now(),
    )
    db.session.add(ticket)
    db.session.commit()
    return ticket


def waiting(clerk: Person) -> list[QueueTicket]:
    hall_ids = [h.id for h in clerk_halls(clerk)]
    return list(
        db.session.execute(
            select(QueueTicket)
            .where(QueueTicket.hall_id.in_(hall_ids), QueueTicket.day == clock.today(), QueueTicket.status == "waiting")
            .order_by(QueueTicket.seq)
        ).scalars()
    )


def serving(clerk: Person) -> list[QueueTicket]:
    """The tickets this clerk called today and has not finished."""
    return list(
        db.session.execute(
            select(QueueTicket)
            .where(
                QueueTicket.called_by_id == clerk.id, QueueTicket.status == "called", QueueTicket.day == clock.today()
            )
            .order_by(QueueTicket.seq)
        ).scalars()
    )


def call_next(clerk: Person) -> QueueTicket:
    """叫号: the oldest waiting ticket of the clerk's halls; two clerks never call the same one."""
    _require_clerk(clerk)
    for ticket in waiting(clerk):
        result = db.session.execute(
            update(QueueTicket)
            .where(QueueTicket.id == ticket.id, QueueTicket.status == "waiting")
            .values(status="called", called_at=clock.now(), called_by_id=clerk.id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            audit.record(
                "window.call",
                actor=clerk,
                subject=f"ticket:{ticket.id}",
                detail={"hall": ticket.hall.code, "number": ticket.number},
            )
            db.session.commit()
            db.session.refresh(ticket)
            return ticket
        db.session.rollback()  # another clerk called it first: try the next one
    raise WindowError(_("当前没有等候的号。"))


def ticket_for(clerk: Person, ticket_id: int) -> QueueTicket:
    ticket = db.session.get(QueueTicket, ticket_id)
    if ticket is None or ticket.called_by_id != clerk.id:
        raise WindowError(_("这个号不是您叫的，或已不存在。"))
    return ticket


def finish(clerk: Person, ticket_id: int, *, absent: bool = False) -> QueueTicket:
    """办结此号, or 过号 when the applicant did not come to the window."""
    ticket = ticket_for(clerk, ticket_id)
    if ticket.status != "called":
        raise WindowError(_("这个号已经处理完毕。"))
    ticket.status, ticket.finished_at = ("absent" if absent else "done"), clock.now()
    audit.record(
        "window.absent" if absent else "window.done",
        actor=clerk,
        subject=f"ticket:{ticket.id}",
        detail={"number": ticket.number},
    )
    db.session.commit()
    return ticket


# --- Identifying the applicant ------------------------------------------------------------


def _registered_person(clerk: Person, raw_id_number: str, purpose: str) -> Person:
    """The person of an ID number typed at the counter: valid, and known to the population
    registry (asked through `govservice.registry.services`, audited there, the look-up kept in
    the audit log when it fails or finds nobody); found, or created if never signed in."""
    try:
        number = normalise_id_number(raw_id_number)
    except InvalidNumber as exc:
        raise WindowError(exc.message) from None
    try:
        record = registry.person(number, actor=clerk, purpose=purpose)
    except registry.RegistryUnavailable as exc:
        db.session.commit()  # the failed look-up stays in the audit log
        raise WindowError(exc.message) from None
    if record is None:
        db.session.commit()  # the look-up is audited even when it finds nobody
        raise WindowError(_("人口基础信息库中没有该身份证号码，请核对证件后重新输入。"))
    return person_for(number, record.name)


def identify(clerk: Person, ticket_id: int, raw_id_number: str) -> Person:
    """核验身份: the ID number must be valid and known to the population registry; the person is
    then found (or, never having signed in, created) and attached to the ticket."""
    ticket = ticket_for(clerk, ticket_id)
    if ticket.status != "called":
        raise WindowError(_("这个号已经处理完毕。"))
    person = _registered_person(clerk, raw_id_number, "综合窗口核验申请人身份")
    ticket.person_id = person.id
    audit.record(
        "window.identify",
        actor=clerk,
        subject=f"person:{person.id}",
        purpose="综合窗口核验申请人身份",
        detail={"ticket": ticket.number},
    )
    db.session.commit()
    return person


def person_at_counter(clerk: Person, raw_id_number: str) -> Person:
    """The person standing at the counter, by ID number against the population registry (audited),
    for what the window records without a ticket (a 信访 request)."""
    _require_clerk(clerk)
    return _registered_person(clerk, raw_id_number, "综合窗口登记诉求核验身份")


def intake(
    clerk: Person, ticket_id: int, item: ServiceItem, form_data: dict, files: list[Upload], idempotency_key: str
) -> tuple[Case, bool]:
    """收件: the case filed for the identified applicant of the ticket (channel window)."""
    ticket = ticket_for(clerk, ticket_id)
    if ticket.person is None:
        raise WindowError(_("请先核验申请人身份。"))
    if item.audience == "enterprise":
        raise WindowError(_("该事项由企业申请，请企业的法定代表人或经办人在网上办理。"))
    return cases.intake_at_window(clerk, ticket.person, item, form_data, files, idempotency_key, hall_id=ticket.hall_id)


def credit_checks_for(case: Case, clerk: Person) -> list:
    """失信联合惩戒: the credit checks the pre-review page shows; asked (and audited) while the case
    waits for its first acceptance, only read after."""
    if case.state == "submitted" and case.accepted_at is None:
        return credit_checks.checks_for(case, clerk)
    return credit_checks.kept(case)


def accept(clerk: Person, case: Case, expected_version: int, *, acknowledged: bool) -> Case:
    """受理 at the window: the item's credit rule first (refuse, warn or note, recorded with the
    case and in the audit log), then the cases domain's acceptance."""
    if case.state == "submitted" and case.accepted_at is None and case.version == expected_version:
        try:
            credit_checks.gate(case, clerk, acknowledged=acknowledged)
        except credit_checks.CreditRefused as exc:
            raise WindowError(exc.message) from None
    return cases.accept(case.id, clerk, expected_version)


def prefill(clerk: Person, person: Person, item: ServiceItem):
    """What the counter form starts with: the identified applicant as the login and the base
    registries know them, the same pre-fill as online (性别, 出生日期, 户籍地址 ... from the
    population registry), each look-up audited as the clerk's. A field the registry cannot fill
    stays open for the clerk to type."""
    purpose = f"窗口收件预填：{item.name}（{item.code}）"[:255]
    values = registry.prefill(item.fields, person, enterprise_uscc=None, purpose=purpose)
    registry.record_lookups(values.lookups, actor=clerk, purpose=purpose)
    values.lookups = []
    db.session.commit()
    return values


OPEN_STATES = ("submitted", "supplement_requested", "accepted", "in_review", "approved", "denied")


def open_cases(person: Person, limit: int = 20) -> list[Case]:
    """The applicant's cases still in progress, or completed and not yet handed over, newest
    first (on the applicant's index): what the clerk asks about once the person is identified."""
    return list(
        db.session.execute(
            select(Case)
            .where(
                Case.applicant_id == person.id,
                or_(
                    Case.state.in_(OPEN_STATES),
                    and_(Case.state == "completed", Case.channel == "window", Case.handed_over_at.is_(None)),
                ),
            )
            .order_by(Case.id.desc())
            .limit(limit)
        ).scalars()
    )


def cases_of_ticket(ticket: QueueTicket) -> list[Case]:
    """The cases this visit made: the applicant's window cases filed since the ticket was called."""
    if ticket.person_id is None:
        return []
    return list(
        db.session.execute(
            select(Case)
            .where(Case.applicant_id == ticket.person_id, Case.channel == "window", Case.created_at >= ticket.called_at)
            .order_by(Case.id)
        ).scalars()
    )


def _require_clerk(person: Person | None) -> None:
    if person is None or not person.has_role("clerk"):
        raise WindowError(_("只有综合窗口工作人员可以叫号。"))
