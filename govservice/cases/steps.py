"""The departments' side of a case: claim their step, record opinions, decide, or send the case
back to the window for a supplement (审查环节).

Each action locks the case row first, with a conditional UPDATE that bumps its version (on
PostgreSQL the row lock serialises every action on the case until commit; SQLite serialises
writers anyway), then changes the department's step with a conditional UPDATE on the step's
own version and status, then reads the whole stage afresh to decide what follows. So of
twenty officers pressing the same button, one changes the step and the others are told; and
of two departments of a joint step deciding at the same moment, the second sees the first's
decision and the case is decided exactly once.

The page's version is the case's. A department's page stays valid while only the other
departments of a joint step act: it is stale when the department's own step changed since
(`CaseStep.version` is the case version at the step's last change), or when the case left
the state the action needs.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update

from .. import clock
from ..audit import services as audit
from ..extensions import db
from ..identity.models import Person
from . import workflow
from .models import Case, CaseOpinion, CaseStep
from .services import (CaseError, StaleCase, _event, _get, _signal, _stale, _supplement_rows,
                       check_supplement_items, complete, may_act, supplement_due)
from .statemachine import TRANSITIONS

MAX_OPINION = 2000


def _officer_step(case: Case, officer: Person, action: str, step_id: int | None) -> CaseStep:
    """The step of the stage under review that belongs to one of the officer's departments."""
    mine = [s for s in case.steps if s.stage == case.current_stage and may_act(officer, action, case, s.department_id)]
    if step_id is not None:
        mine = [s for s in mine if s.id == step_id]
    if not mine:
        raise CaseError(_("该办件当前不在您所在部门的审查环节，您无权执行“%(action)s”。",
                          action=TRANSITIONS[action].label))
    return mine[0]


def _fresh(case: Case, step: CaseStep, expected_version: int, action: str, step_sources: tuple[str, ...]) -> None:
    spec = TRANSITIONS[action]
    if case.state not in spec.sources or step.status not in step_sources \
            or not step.version <= expected_version <= case.version:
        raise _stale(case, spec)


def _lock(case: Case, action: str) -> tuple[int, str, int]:
    """Bump the case's version while it is in a state `action` starts from; (new version, state, stage)."""
    row = db.session.execute(
        update(Case).where(Case.id == case.id, Case.state.in_(TRANSITIONS[action].sources))
        .values(version=Case.version + 1).returning(Case.version, Case.state, Case.current_stage)
        .execution_options(synchronize_session=False)).one_or_none()
    if row is None:
        db.session.rollback()
        raise _stale(case, TRANSITIONS[action])
    return row.version, row.state, row.current_stage


def _change_step(case: Case, step: CaseStep, action: str, step_sources: tuple[str, ...], stage: int,
                 **values) -> None:
    """The conditional UPDATE of the department's own step; a second caller finds it changed."""
    result = db.session.execute(
        update(CaseStep).where(CaseStep.id == step.id, CaseStep.version == step.version,
                               CaseStep.status.in_(step_sources), CaseStep.stage == stage)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise _stale(case, TRANSITIONS[action])


def _stage_steps(case_id: int, stage: int) -> list[CaseStep]:
    return list(db.session.execute(
        select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.stage == stage).order_by(CaseStep.id)
        .execution_options(populate_existing=True)).scalars())


def _set_case(case_id: int, **values) -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(**values)
                       .execution_options(synchronize_session=False))


def _opinion(case: Case, step: CaseStep, officer: Person, kind: str, text: str) -> None:
    db.session.add(CaseOpinion(case_id=case.id, step_id=step.id, author_id=officer.id, at=clock.now(),
                               kind=kind, text=text))


def _clean(opinion: str | None) -> str:
    text = (opinion or "").strip()
    if not text:
        raise CaseError(_("请填写审查意见。"))
    if len(text) > MAX_OPINION:
        raise CaseError(_("审查意见不能超过 %(n)s 个字。", n=MAX_OPINION))
    return text


def claim(case_id: int, officer: Person, expected_version: int, *, step_id: int | None = None) -> Case:
    """认领: the officer takes their department's step; the case is under review."""
    case = _get(case_id)
    step = _officer_step(case, officer, "claim", step_id)
    _fresh(case, step, expected_version, "claim", (workflow.PENDING,))
    version, state, stage = _lock(case, "claim")
    _change_step(case, step, "claim", (workflow.PENDING,), stage, status=workflow.IN_REVIEW,
                 claimed_by_id=officer.id, claimed_at=clock.now(), version=version)
    _set_case(case_id, state="in_review")
    _event(case, "claim", officer, state, "in_review", f"{step.department.name} 认领审查")
    db.session.commit()
    db.session.refresh(case)
    _signal(case_id, "claim")
    return case


def record_opinion(case_id: int, officer: Person, text: str, *, step_id: int | None = None) -> CaseOpinion:
    """审查意见: a working note of the department that claimed its step; no state changes."""
    case = _get(case_id)
    step = _officer_step(case, officer, "step_approve", step_id)
    if case.state != "in_review" or step.status != workflow.IN_REVIEW:
        raise CaseError(_("请先认领该办件，再记录审查意见。"))
    text = _clean(text)
    opinion = CaseOpinion(case_id=case.id, step_id=step.id, author_id=officer.id, at=clock.now(), kind="note",
                          text=text)
    db.session.add(opinion)
    audit.record("case.opinion", actor=officer, subject=f"case:{case.number}", case_id=case.id,
                 detail={"department": step.department.code})
    db.session.commit()
    return opinion


def decide(case_id: int, officer: Person, expected_version: int, *, approve: bool, opinion: str,
           step_id: int | None = None) -> Case:
    """The department's conclusion on its step, with its opinion.

    A sequential stage's approval opens the next stage; the last stage's approval approves the
    case (which issues the item's result through `case_transitioned`). A denial in a sequential
    stage denies the case at once; in a joint stage (并联) every department decides first, then
    any denial denies the case with all the reasons.
    """
    text = _clean(opinion)
    case = _get(case_id)
    step = _officer_step(case, officer, "step_approve", step_id)
    _fresh(case, step, expected_version, "step_approve", (workflow.IN_REVIEW,))
    if step.claimed_by_id != officer.id:
        raise CaseError(_("该办件已由 %(name)s 认领，只有认领人可以作出审查结论。", name=step.claimed_by.masked_name))
    version, state, stage = _lock(case, "step_approve")
    now = clock.now()
    verdict = workflow.APPROVED if approve else workflow.DENIED
    _change_step(case, step, "step_approve", (workflow.IN_REVIEW,), stage, status=verdict, decided_by_id=officer.id,
                 decided_at=now, opinion=text, version=version)
    _opinion(case, step, officer, "approve" if approve else "deny", text)
    steps = _stage_steps(case_id, stage)
    outcome = workflow.stage_outcome([s.status for s in steps])
    own = f"{step.department.name}：{text}"
    later = list(db.session.execute(select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.stage > stage)
                                    .order_by(CaseStep.stage, CaseStep.id)).scalars())
    if outcome is None:  # a joint stage: other departments are still deciding
        action = "step_approve" if approve else "step_deny"
        waiting = "、".join(s.department.name for s in steps if s.status not in workflow.DECIDED)
        _event(case, action, officer, state, state, f"{own}（等待{waiting}审查）")
    elif outcome == workflow.APPROVED and later:
        next_stage = later[0].stage
        db.session.execute(update(CaseStep).where(CaseStep.case_id == case_id, CaseStep.stage == next_stage)
                           .values(status=workflow.PENDING, version=version)
                           .execution_options(synchronize_session=False))
        _set_case(case_id, current_stage=next_stage)
        names = "、".join(s.department.name for s in later if s.stage == next_stage)
        action = "step_approve"
        _event(case, action, officer, state, state, f"{own}（转入下一环节：{names}）")
    else:
        action = "approve" if outcome == workflow.APPROVED else "deny"
        if later:
            db.session.execute(update(CaseStep).where(CaseStep.case_id == case_id, CaseStep.stage > stage)
                               .values(status=workflow.SKIPPED, version=version)
                               .execution_options(synchronize_session=False))
        reasons = [f"{s.department.name}：{s.opinion}" for s in steps
                   if len(steps) == 1 or s.status == outcome]
        _set_case(case_id, state="approved" if action == "approve" else "denied", decided_at=now, decision=action)
        _event(case, action, officer, state, TRANSITIONS[action].target, "；".join(reasons))
    db.session.commit()
    db.session.refresh(case)
    _signal(case_id, action)
    if action == "deny":  # the decision letter is the result: delivered online, the case is done
        case = complete(case_id, None, "不予许可决定已送达申请人")
    return case


def return_for_supplement(case_id: int, officer: Person, expected_version: int, items: list[dict], *,
                          due: date | None = None, note: str | None = None, step_id: int | None = None) -> Case:
    """退回窗口补正: the department lists what is missing or defective; the clock pauses until the
    applicant answers, and the window checks the answer before the case comes back."""
    case = _get(case_id)
    step = _officer_step(case, officer, "return_for_supplement", step_id)
    _fresh(case, step, expected_version, "return_for_supplement", (workflow.IN_REVIEW,))
    items = check_supplement_items(case.item, items)
    due = supplement_due(due)
    note = (note or "").strip() or None
    version, state, stage = _lock(case, "return_for_supplement")
    _change_step(case, step, "return_for_supplement", (workflow.IN_REVIEW,), stage, status=workflow.RETURNED,
                 version=version)
    paused = {} if case.paused_since is not None else {"paused_since": clock.today()}
    _set_case(case_id, state="supplement_requested", **paused)
    _supplement_rows(case, officer, "department", items, due, note, step_id=step.id)
    _opinion(case, step, officer, "supplement", "；".join(f"{i['name']}：{i['reason']}" for i in items))
    _event(case, "return_for_supplement", officer, state, "supplement_requested",
           f"{step.department.name}退回补正 {len(items)} 项，补正期限至 {due.isoformat()}，计时暂停")
    db.session.commit()
    db.session.refresh(case)
    _signal(case_id, "return_for_supplement")
    return case


__all__ = ["claim", "decide", "record_opinion", "return_for_supplement", "StaleCase"]
