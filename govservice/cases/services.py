"""Applications and their transitions. Each business action checks the actor's right, the
current state and the row's version, then writes the state, a CaseEvent and an audit entry
in one transaction."""
from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import blobs, clock, pii
from ..audit import services as audit
from ..catalog.models import ServiceItem
from ..counters import next_value
from ..extensions import db
from ..identity.models import Person
from ..signals import case_transitioned
from . import statemachine, uploads
from .models import Attachment, Case, CaseEvent
from .statemachine import TRANSITIONS


class CaseError(Exception):
    """A refusal shown to the person as it is (Chinese); nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleCase(CaseError):
    """Someone else acted on the case first."""


def submit_application(applicant: Person, item: ServiceItem, form_data: dict, files: list[uploads.Upload],
                       idempotency_key: str, *, channel: str = "online", clerk: Person | None = None) -> tuple[Case, bool]:
    """Create a submitted case; the same idempotency key returns the case already made.

    Returns (case, created). Every upload is checked before anything is written.
    """
    existing = _by_idempotency_key(applicant, idempotency_key)
    if existing is not None:
        return existing, False
    materials = {m["code"]: m for m in item.materials}
    checked = []
    for upload in files:
        material = materials.get(upload.material_code)
        if material is None:
            raise CaseError(f"未知的材料：{upload.material_code}")
        checked.append((upload, uploads.check(material, upload, current_app.config["MAX_UPLOAD_MB"])))
    given = {u.material_code for u in files}
    missing = [m["name"] for m in item.materials if m.get("required") and m["code"] not in given]
    if missing and channel == "online":
        raise CaseError("缺少必需的材料：" + "、".join(missing))

    now = clock.now()
    case = Case(
        number=_case_number(), item=item, applicant=applicant, channel=channel, state="submitted",
        idempotency_key=idempotency_key, form_data_enc=pii.encrypt_json(form_data),
        department=item.department, created_at=now, submitted_at=now,
    )
    store = blobs.store()
    for upload, content_type in checked:
        case.attachments.append(Attachment(
            material_code=upload.material_code, filename=upload.filename[:255], content_type=content_type,
            size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(), blob_key=store.put(upload.data),
        ))
    actor = clerk or applicant
    try:
        db.session.add(case)
        db.session.flush()
    except IntegrityError:  # the same key submitted at the same moment: the other one won
        db.session.rollback()
        return _by_idempotency_key(applicant, idempotency_key), False
    note = "窗口代为提交" if clerk else None
    db.session.add(CaseEvent(case=case, at=now, actor=actor, action="submit", from_state="draft",
                             to_state="submitted", note=note))
    audit.record("case.submit", actor=actor, subject=f"case:{case.number}", case_id=case.id,
                 detail={"item": item.code, "version": item.version, "channel": channel})
    db.session.commit()
    case_transitioned.send(current_app._get_current_object(), case_id=case.id, action="submit")
    return case, True


def _by_idempotency_key(applicant: Person, key: str) -> Case | None:
    return db.session.execute(
        select(Case).where(Case.applicant_id == applicant.id, Case.idempotency_key == key)).scalar_one_or_none()


def _case_number() -> str:
    """Region code, Beijing date, six-digit daily sequence: 11010520261123000001."""
    prefix = current_app.config["REGION_CODE"] + clock.today().strftime("%Y%m%d")
    return f"{prefix}{next_value('case:' + prefix):06d}"


def may_act(actor: Person | None, action: str, case: Case) -> bool:
    transition = TRANSITIONS[action]
    for kind in transition.actors:
        if kind == "system" and actor is None:
            return True
        if actor is None:
            continue
        if kind == "applicant" and case.applicant_id == actor.id:
            return True
        if kind == "clerk" and actor.has_role("clerk"):
            return True
        if kind == "officer" and "officer" in actor.roles(case.department_id):
            return True
    return False


def transition(case_id: int, action: str, actor: Person | None, expected_version: int, *,
               note: str | None = None, **changes) -> Case:
    """Fire one transition; exactly one of several concurrent callers wins.

    The state change is a single conditional UPDATE on (id, version, state), so a second
    clerk acting on the same case (or a stale page) changes nothing and is told so.
    """
    spec = TRANSITIONS[action]
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError("办件不存在。")
    if not may_act(actor, action, case):
        raise CaseError(f"您无权对该办件执行“{spec.label}”。")
    if case.state not in spec.sources or case.version != expected_version:
        raise _stale(case, spec)
    result = db.session.execute(
        update(Case)
        .where(Case.id == case_id, Case.version == expected_version, Case.state.in_(spec.sources))
        .values(state=spec.target, version=Case.version + 1, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise _stale(db.session.get(Case, case_id), spec)
    now = clock.now()
    db.session.add(CaseEvent(case_id=case_id, at=now, actor_id=getattr(actor, "id", None), action=action,
                             from_state=case.state, to_state=spec.target, note=note))
    audit.record(f"case.{action}", actor=actor, subject=f"case:{case.number}", case_id=case_id,
                 detail={"from": case.state, "to": spec.target, "note": note})
    db.session.commit()
    db.session.refresh(case)
    case_transitioned.send(current_app._get_current_object(), case_id=case_id, action=action)
    return case


def _stale(case: Case, spec) -> StaleCase:
    db.session.refresh(case)
    return StaleCase(
        f"无法{spec.label}：该办件当前状态为“{statemachine.label(case.state)}”，可能已被他人处理。请刷新页面后查看。")


def accept(case_id: int, clerk: Person, expected_version: int) -> Case:
    """受理: the statutory clock starts; the deadline counts working days from today."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError("办件不存在。")
    deadline, provisional = clock.add_working_days(clock.today(), case.item.time_limit_days)
    return transition(case_id, "accept", clerk, expected_version, accepted_at=clock.now(), deadline=deadline,
                      deadline_provisional=provisional,
                      note=f"承诺时限 {case.item.time_limit_days} 个工作日，截止 {deadline.isoformat()}")


def claim(case_id: int, officer: Person, expected_version: int) -> Case:
    return transition(case_id, "claim", officer, expected_version)


def decide(case_id: int, officer: Person, expected_version: int, *, approve: bool, opinion: str) -> Case:
    if not opinion or not opinion.strip():
        raise CaseError("请填写审查意见。")
    action = "approve" if approve else "deny"
    case = transition(case_id, action, officer, expected_version, note=opinion.strip(),
                      decided_at=clock.now(), decision=action)
    if not approve:  # the decision letter is the result: delivered online, the case is done
        case = complete(case_id, None, "不予许可决定已送达申请人")
    return case


def complete(case_id: int, actor: Person | None, note: str) -> Case:
    case = db.session.get(Case, case_id)
    return transition(case_id, "complete", actor, case.version, note=note, completed_at=clock.now())


def cases_of(applicant: Person) -> list[Case]:
    return list(db.session.execute(
        select(Case).where(Case.applicant_id == applicant.id).order_by(Case.id.desc())).scalars())


def intake_queue() -> list[Case]:
    return list(db.session.execute(
        select(Case).where(Case.state == "submitted").order_by(Case.submitted_at)).scalars())


def department_inbox(officer: Person) -> list[Case]:
    departments = [d.id for d in officer.departments("officer")]
    return list(db.session.execute(
        select(Case).where(Case.department_id.in_(departments), Case.state.in_(("accepted", "in_review")))
        .order_by(Case.deadline.is_(None), Case.deadline, Case.id)).scalars())


def attachment_for(case: Case, attachment_id: int) -> tuple[Attachment, bytes]:
    attachment = next((a for a in case.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise CaseError("材料不存在。")
    return attachment, blobs.store().get(attachment.blob_key)


def can_view(person: Person, case: Case) -> bool:
    return (case.applicant_id == person.id or person.has_role("clerk", "supervisor", "admin")
            or "officer" in person.roles(case.department_id))


def find_case(number: str) -> Case | None:
    return db.session.execute(select(Case).where(Case.number == number)).scalar_one_or_none()
