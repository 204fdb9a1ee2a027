"""Department review (审查), the rules of review/: the departments' side of a case, on the cases'
one transition engine: claim their step, record opinions, decide, or send the case
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

from ..audit import services as audit
from ..cases import workflow
from ..cases.engine import CaseError, Locked, Outcome, StaleCase, get_case, may_act, stale, transition
from ..cases.models import Case, CaseOpinion, CaseStep
from ..cases.services import check_supplement_items, complete, supplement_due, supplement_rows
from ..cases.statemachine import TRANSITIONS
from ..core import clock
from ..core.extensions import db
from ..identity.models import Person

MAX_OPINION = 2000


def _officer_step(case: Case, officer: Person, action: str, step_id: int | None) -> CaseStep:
    """The step of the stage under review that belongs to one of the officer's departments."""
    mine = [s for s in case.steps if s.stage == case.current_stage and may_act(officer, action, case, s.department_id)]
    if step_id is not None:
        mine = [s for s in mine if s.id == step_id]
    if not mine:
        raise CaseError(
            _("该办件当前不在您所在部门的审查环节，您无权执行“%(action)s”。", action=TRANSITIONS[action].label)
        )
    return mine[0]


def _fresh(step: CaseStep, expected_version: int, action: str, step_sources: tuple[str, ...]):
    """The department's page is current: its own step has not changed since it was shown."""

    def check(case: Case) -> None:
        if (
            case.state not in TRANSITIONS[action].sources
            or step.status not in step_sources
            or not step.version <= expected_version <= case.version
        ):
            raise stale(case, action)

    return check


def _change_step(
    case: Case, step: CaseStep, action: str, step_sources: tuple[str, ...], locked: Locked, **values
) -> None:
    """The conditional UPDATE of the department's own step; a second caller finds it changed."""
    result = db.session.execute(
        update(CaseStep)
        .where(
            CaseStep.id == step.id,
            CaseStep.version == step.version,
            CaseStep.status.in_(step_sources),
            CaseStep.stage == locked.stage,
        )
        .values(version=locked.version, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise stale(case, action)


def _stage_steps(case_id: int, stage: int) -> list[CaseStep]:
    return list(
        db.session.execute(
            select(CaseStep)
            .where(CaseStep.case_id == case_id, CaseStep.stage == stage)
            .order_by(CaseStep.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def _opinion(case: Case, step: CaseStep, officer: Person, kind: str, text: str) -> None:
    db.session.add(
        CaseOpinion(case_id=case.id, step_id=step.id, author_id=officer.id, at=clock.now(), kind=kind, text=text)
    )


def _clean(opinion: str | None) -> str:
    text = (opinion or "").strip()
    if not text:
        raise CaseError(_("请填写审查意见。"))
    if len(text) > MAX_OPINION:
        raise CaseError(_("审查意见不能超过 %(n)s 个字。", n=MAX_OPINION))
    return text


def claim(case_id: int, officer: Person, expected_version: int, *, step_id: int | None = None) -> Case:
    """认领: the officer takes their department's step; the case is under review."""
    case = get_case(case_id)
    step = _officer_step(case, officer, "claim", step_id)

    def take(c: Case, locked: Locked) -> Outcome:
        _change_step(
            c,
            step,
            "claim",
            (workflow.PENDING,),
            locked,
            status=workflow.IN_REVIEW,
            claimed_by_id=officer.id,
            claimed_at=clock.now(),
        )
        return Outcome("claim", "in_review", f"{step.department.name} 认领审查")

    return transition(
        case_id,
        "claim",
        officer,
        expected_version,
        department_id=step.department_id,
        step_check=_fresh(step, expected_version, "claim", (workflow.PENDING,)),
        effects=take,
    )


def record_opinion(case_id: int, officer: Person, text: str, *, step_id: int | None = None) -> CaseOpinion:
    """审查意见: a working note of the department that claimed its step; no state changes."""
    case = get_case(case_id)
    step = _officer_step(case, officer, "step_approve", step_id)
    if case.state != "in_review" or step.status != workflow.IN_REVIEW:
        raise CaseError(_("请先认领该办件，再记录审查意见。"))
    text = _clean(text)
    opinion = CaseOpinion(
        case_id=case.id, step_id=step.id, author_id=officer.id, at=clock.now(), kind="note", text=text
    )
    db.session.add(opinion)
    audit.record(
        "case.opinion",
        actor=officer,
        subject=f"case:{case.number}",
        case_id=case.id,
        detail={"department": step.department.code},
    )
    db.session.commit()
    return opinion


def decide(
    case_id: int, officer: Person, expected_version: int, *, approve: bool, opinion: str, step_id: int | None = None
) -> Case:
    """The department's conclusion on its step, with its opinion.

    A sequential stage's approval opens the next stage; the last stage's approval approves the
    case (which issues the item's result through `case_transitioned`). A denial in a sequential
    stage denies the case at once; in a joint stage (并联) every department decides first, then
    any denial denies the case with all the reasons.
    """
    text = _clean(opinion)
    case = get_case(case_id)
    step = _officer_step(case, officer, "step_approve", step_id)
    check = _fresh(step, expected_version, "step_approve", (workflow.IN_REVIEW,))
    check(case)
    if step.claimed_by_id != officer.id:
        raise CaseError(_("该办件已由 %(name)s 认领，只有认领人可以作出审查结论。", name=step.claimed_by.masked_name))

    def conclude(c: Case, locked: Locked) -> Outcome:
        now = clock.now()
        verdict = workflow.APPROVED if approve else workflow.DENIED
        _change_step(
            c,
            step,
            "step_approve",
            (workflow.IN_REVIEW,),
            locked,
            status=verdict,
            decided_by_id=officer.id,
            decided_at=now,
            opinion=text,
        )
        _opinion(c, step, officer, "approve" if approve else "deny", text)
        steps = _stage_steps(case_id, locked.stage)
        outcome = workflow.stage_outcome([s.status for s in steps])
        own = f"{step.department.name}：{text}"
        later = list(
            db.session.execute(
                select(CaseStep)
                .where(CaseStep.case_id == case_id, CaseStep.stage > locked.stage)
                .order_by(CaseStep.stage, CaseStep.id)
            ).scalars()
        )
        if outcome is None:  # a joint stage: other departments are still deciding
            waiting = "、".join(s.department.name for s in steps if s.status not in workflow.DECIDED)
            return Outcome("step_approve" if approve else "step_deny", locked.state, f"{own}（等待{waiting}审查）")
        if outcome == workflow.APPROVED and later:
            next_stage = later[0].stage
            db.session.execute(
                update(CaseStep)
                .where(CaseStep.case_id == case_id, CaseStep.stage == next_stage)
                .values(status=workflow.PENDING, version=locked.version)
                .execution_options(synchronize_session=False)
            )
            names = "、".join(s.department.name for s in later if s.stage == next_stage)
            return Outcome(
                "step_approve", locked.state, f"{own}（转入下一环节：{names}）", {"current_stage": next_stage}
            )
        action = "approve" if outcome == workflow.APPROVED else "deny"
        if later:
            db.session.execute(
                update(CaseStep)
                .where(CaseStep.case_id == case_id, CaseStep.stage > locked.stage)
                .values(status=workflow.SKIPPED, version=locked.version)
                .execution_options(synchronize_session=False)
            )
        reasons = [f"{s.department.name}：{s.opinion}" for s in steps if len(steps) == 1 or s.status == outcome]
        return Outcome(action, TRANSITIONS[action].target, "；".join(reasons), {"decided_at": now, "decision": action})

    case = transition(
        case_id,
        "step_approve",
        officer,
        expected_version,
        department_id=step.department_id,
        step_check=check,
        effects=conclude,
    )
    if case.decision == "deny" and case.state == "denied":  # the decision letter is the result: delivered online
        case = complete(case_id, None, "不予许可决定已送达申请人")
    return case


def return_for_supplement(
    case_id: int,
    officer: Person,
    expected_version: int,
    items: list[dict],
    *,
    due: date | None = None,
    note: str | None = None,
    step_id: int | None = None,
) -> Case:
    """退回窗口补正: the department lists what is missing or defective; the clock pauses until the
    applicant answers, and the window checks the answer before the case comes back."""
    case = get_case(case_id)
    step = _officer_step(case, officer, "return_for_supplement", step_id)
    check = _fresh(step, expected_version, "return_for_supplement", (workflow.IN_REVIEW,))
    check(case)
    items = check_supplement_items(case.item, items)
    due = supplement_due(due)
    note = (note or "").strip() or None

    def send_back(c: Case, locked: Locked) -> Outcome:
        _change_step(c, step, "return_for_supplement", (workflow.IN_REVIEW,), locked, status=workflow.RETURNED)
        supplement_rows(c, officer, "department", items, due, note, step_id=step.id)
        _opinion(c, step, officer, "supplement", "；".join(f"{i['name']}：{i['reason']}" for i in items))
        paused = {} if c.paused_since is not None else {"paused_since": clock.today()}
        return Outcome(
            "return_for_supplement",
            "supplement_requested",
            f"{step.department.name}退回补正 {len(items)} 项，补正期限至 {due.isoformat()}，计时暂停",
            paused,
        )

    return transition(
        case_id,
        "return_for_supplement",
        officer,
        expected_version,
        department_id=step.department_id,
        step_check=check,
        effects=send_back,
    )


__all__ = ["claim", "decide", "record_opinion", "return_for_supplement", "StaleCase"]
