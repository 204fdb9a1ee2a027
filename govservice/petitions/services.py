"""网上信访 / 12345 requests: submitted online or recorded at the window, routed to a department,
accepted (or not) and answered within the 信访工作条例's time limits, rated by the requester, and
published with the requester's consent.

The limits, in calendar days (日) as the 条例 counts them: whether it is accepted is told within 15
days of receipt; an accepted request is handled within 60 days of acceptance; a complicated one may
be extended once, by at most 30 days, with the reason told to the requester. `due` holds the
limit running now, so supervision's overdue list is a range on an index.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from .. import access
from ..audit import services as audit
from ..core import clock, pii
from ..core.counters import next_value
from ..core.extensions import db
from ..core.pagination import Key, Page, keyset
from ..core.signals import people_alerted
from ..identity.models import Department, Person, StaffAssignment
from .models import Petition

KINDS = {
    "complaint": _l("投诉"),
    "suggestion": _l("建议"),
    "help": _l("求助"),
    "consultation": _l("咨询"),
    "petition": _l("信访事项"),
}
STATES = {"submitted": _l("待受理"), "accepted": _l("办理中"), "not_accepted": _l("不予受理"), "answered": _l("已答复")}
ACCEPT_DAYS, HANDLE_DAYS, MAX_EXTENSION = 15, 60, 30
BASIS = _l(
    "《信访工作条例》：自收到之日起15日内告知是否受理；自受理之日起60日内办结，情况复杂的经负责人批准可以延长，"
    "延长不超过30日，并告知延期理由。"
)
MAX_TITLE, MAX_TEXT = 100, 3000


class PetitionError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _text(value, label, limit) -> str:
    value = (value or "").strip()
    if not value:
        raise PetitionError(_("请填写%(label)s。", label=label))
    if len(value) > limit:
        raise PetitionError(_("%(label)s不能超过 %(n)s 个字。", label=label, n=limit))
    return value


def departments() -> list[Department]:
    return list(db.session.execute(select(Department).order_by(Department.id)).scalars())


def submit(
    requester: Person,
    *,
    kind: str,
    title: str,
    content: str,
    department_code: str,
    publish_consent: bool,
    clerk: Person | None = None,
) -> Petition:
    """提交诉求 (online, or recorded by a clerk at the window for the person identified there)."""
    if kind not in KINDS:
        raise PetitionError(_("请选择诉求类型。"))
    title = _text(title, _("标题"), MAX_TITLE)
    content = _text(content, _("诉求内容"), MAX_TEXT)
    department = db.session.execute(
        select(Department).where(Department.code == (department_code or ""))
    ).scalar_one_or_none()
    if department is None:
        raise PetitionError(_("请选择受理部门。"))
    if clerk is not None and not clerk.has_role("clerk"):
        raise PetitionError(_("只有综合窗口工作人员可以代为登记。"))
    now, today = clock.now(), clock.today()
    petition = Petition(
        kind=kind,
        title=title,
        content_enc=pii.encrypt(content),
        requester_id=requester.id,
        channel="window" if clerk else "online",
        recorded_by_id=getattr(clerk, "id", None),
        department_id=department.id,
        state="submitted",
        version=1,
        submitted_at=now,
        submitted_on=today,
        due=today + timedelta(days=ACCEPT_DAYS),
        publish_consent=bool(publish_consent),
    )
    prefix = "XF" + current_app.config["REGION_CODE"] + today.strftime("%Y%m%d")
    petition.number = f"{prefix}{next_value('petition:' + prefix):05d}"
    db.session.add(petition)
    db.session.flush()
    audit.record(
        "petition.submit",
        actor=clerk or requester,
        subject=f"petition:{petition.number}",
        detail={"kind": kind, "channel": petition.channel, "department": department.code},
    )
    _tell_department(petition, "petition.received")
    db.session.commit()
    return petition


def _tell_department(petition: Petition, kind: str) -> None:
    officers = db.session.execute(
        select(StaffAssignment.person_id)
        .where(StaffAssignment.role == "officer", StaffAssignment.department_id == petition.department_id)
        .distinct()
    ).scalars()
    people_alerted.send(
        current_app._get_current_object(),
        recipients=[(p, "petitions.department", {}) for p in officers],
        kind=kind,
        params={"number": petition.number, "due": petition.due.isoformat()},
    )


def _tell_requester(petition: Petition, kind: str) -> None:
    people_alerted.send(
        current_app._get_current_object(),
        recipients=[(petition.requester_id, "petitions.detail", {"number": petition.number})],
        kind=kind,
        params={"number": petition.number, "due": petition.due.isoformat()},
    )


def get(number: str) -> Petition:
    petition = db.session.execute(select(Petition).where(Petition.number == number)).scalar_one_or_none()
    if petition is None:
        raise PetitionError(_("诉求不存在。"))
    return petition


def _act(petition: Petition, officer: Person, expected_version, from_states: tuple, action: str, **values) -> None:
    if not access.may_handle_petition(officer, petition):
        raise PetitionError(_("只有受理部门的审批人员可以办理此诉求。"))
    result = db.session.execute(
        update(Petition)
        .where(Petition.id == petition.id, Petition.version == expected_version, Petition.state.in_(from_states))
        .values(version=Petition.version + 1, handled_by_id=officer.id, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise PetitionError(_("该诉求已被他人处理，或页面已过期，请刷新后查看。"))
    audit.record(
        f"petition.{action}",
        actor=officer,
        subject=f"petition:{petition.number}",
        detail={
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in values.items()
            if k in ("state", "due", "extended_days")
        },
    )


def accept(number: str, officer: Person, expected_version: int) -> Petition:
    """受理: the 60-day limit runs from today."""
    petition = get(number)
    today = clock.today()
    _act(
        petition,
        officer,
        expected_version,
        ("submitted",),
        "accept",
        state="accepted",
        accepted_on=today,
        due=today + timedelta(days=HANDLE_DAYS),
    )
    _finish(petition, "petition.accepted")
    return petition


def not_accept(number: str, officer: Person, expected_version: int, reason: str) -> Petition:
    """不予受理, with the reason the requester reads (e.g. 已经或者依法应当通过诉讼、仲裁解决的)."""
    petition = get(number)
    reason = _text(reason, _("不予受理的理由"), MAX_TEXT)
    _act(
        petition,
        officer,
        expected_version,
        ("submitted",),
        "not_accept",
        state="not_accepted",
        decision_note=reason,
        answered_at=clock.now(),
        answered_on_time=clock.today() <= petition.due,
    )
    _finish(petition, "petition.not_accepted")
    return petition


def extend(number: str, officer: Person, expected_version: int, days, reason: str) -> Petition:
    """延期: once, by at most 30 days, with the reason told to the requester."""
    petition = get(number)
    if petition.extended_days:
        raise PetitionError(_("办理期限已经延长过一次，不能再次延长。"))
    reason = _text(reason, _("延期理由"), MAX_TEXT)
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXTENSION:
        raise PetitionError(_("延长期限请填写 1 到 %(n)s 日。", n=MAX_EXTENSION))
    _act(
        petition,
        officer,
        expected_version,
        ("accepted",),
        "extend",
        due=petition.due + timedelta(days=days),
        extended_days=days,
        extension_reason=reason,
    )
    _finish(petition, "petition.extended")
    return petition


def answer(number: str, officer: Person, expected_version: int, text: str, *, publish: bool) -> Petition:
    """答复 (办理意见); published only with the requester's consent."""
    petition = get(number)
    text = _text(text, _("答复意见"), MAX_TEXT)
    if publish and not petition.publish_consent:
        raise PetitionError(_("诉求人未同意公开，不能公开此诉求。"))
    now = clock.now()
    _act(
        petition,
        officer,
        expected_version,
        ("accepted",),
        "answer",
        state="answered",
        answer=text,
        answered_at=now,
        answered_on_time=clock.today() <= petition.due,
        published_at=now if publish else None,
    )
    _finish(petition, "petition.answered")
    return petition


def _finish(petition: Petition, kind: str) -> None:
    db.session.refresh(petition)
    _tell_requester(petition, kind)
    db.session.commit()


def rate(number: str, requester: Person, rating, comment: str | None) -> Petition:
    """The requester rates the answer 1-5 (满意度), once."""
    petition = get(number)
    if petition.requester_id != requester.id:
        raise PetitionError(_("只有诉求人可以评价。"))
    if petition.state not in ("answered", "not_accepted"):
        raise PetitionError(_("答复后才能评价。"))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise PetitionError(_("请选择 1 到 5 分的评价。"))
    comment = (comment or "").strip()[:500] or None
    result = db.session.execute(
        update(Petition)
        .where(Petition.id == petition.id, Petition.rating.is_(None))
        .values(rating=rating, rating_comment=comment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise PetitionError(_("已经评价过。"))
    audit.record("petition.rate", actor=requester, subject=f"petition:{petition.number}", detail={"rating": rating})
    db.session.commit()
    db.session.refresh(petition)
    return petition


# --- Lists and statistics ------------------------------------------------------------------------


def _page(query, token, size=None) -> Page:
    return keyset(query.options(joinedload(Petition.department)), [Key(Petition.id, descending=True)], token, size=size)


def of_requester(requester: Person, token: str | None = None) -> Page:
    return _page(select(Petition).where(Petition.requester_id == requester.id), token)


def department_page(officer: Person, token: str | None = None) -> Page:
    """The officer's departments' open requests, the nearest limit first."""
    departments = [d.id for d in officer.departments("officer")] or [-1]
    query = (
        select(Petition)
        .options(joinedload(Petition.department))
        .where(Petition.department_id.in_(departments), Petition.state.in_(("submitted", "accepted")))
    )
    return keyset(query, [Key(Petition.due), Key(Petition.id)], token)


def published_page(token: str | None = None) -> Page:
    """Published requests and their answers (no requester's data), newest first."""
    query = select(Petition).options(joinedload(Petition.department)).where(Petition.published_at.is_not(None))
    return keyset(
        query, [Key(Petition.published_at, descending=True), Key(Petition.id, descending=True)], token, size=20
    )


def statistics(departments: list[int] | None, today=None) -> dict:
    """For supervision: counts by kind, state and department, the answered on time, the average
    rating, and the open requests past their limit (red), the oldest first."""
    today = today or clock.today()

    def scoped(query):
        return query if departments is None else query.where(Petition.department_id.in_(departments))

    by = {}
    for column, labels in ((Petition.kind, KINDS), (Petition.state, STATES)):
        rows = db.session.execute(scoped(select(column, func.count()).group_by(column))).all()
        by[column.key] = [(str(labels.get(k, k)), n) for k, n in rows]
    by["department"] = [
        (name, n)
        for name, n in db.session.execute(
            scoped(
                select(Department.name, func.count())
                .select_from(Petition)
                .join(Department, Department.id == Petition.department_id)
                .group_by(Department.name)
            )
        )
    ]
    on_time = db.session.execute(
        scoped(
            select(func.count(), func.sum(db.case((Petition.answered_on_time.is_(True), 1), else_=0))).where(
                Petition.answered_on_time.is_not(None)
            )
        )
    ).one()
    average = db.session.execute(scoped(select(func.avg(Petition.rating)).where(Petition.rating.is_not(None)))).scalar()
    overdue_query = scoped(
        select(Petition)
        .options(joinedload(Petition.department))
        .where(Petition.state.in_(("submitted", "accepted")), Petition.due < today)
    )
    overdue = list(db.session.execute(overdue_query.order_by(Petition.due, Petition.id).limit(100)).scalars())
    count = db.session.execute(select(func.count()).select_from(overdue_query.subquery())).scalar()
    return {
        "by_kind": by["kind"],
        "by_state": by["state"],
        "by_department": by["department"],
        "answered": on_time[0],
        "on_time": on_time[1] or 0,
        "average_rating": round(float(average), 1) if average is not None else None,
        "overdue": overdue,
        "overdue_count": count,
        "today": today,
    }


# --- Demo ----------------------------------------------------------------------------------------


def load_demo() -> list[str]:
    """周杰's suggestion to 卫生健康委员会, waiting to be accepted. Running it twice changes nothing."""
    from ..identity.devidp.identities import IDENTITIES
    from ..identity.services import person_for

    identity = next(i for i in IDENTITIES if i["name"] == "周杰")
    requester = person_for(identity["id_number"], identity["name"])
    db.session.commit()
    if db.session.execute(select(Petition.id).where(Petition.requester_id == requester.id)).first():
        return []
    petition = submit(
        requester,
        kind="suggestion",
        title="建议社区卫生服务中心延长周末门诊时间",
        content="上班族工作日难以就诊，建议周末上午也开放全科门诊。",
        department_code="wsjkw",
        publish_consent=True,
    )
    return [f"petition: {petition.number} of {requester.name}"]
