"""The one transition engine: every change of a case's state goes through `transition` (or, for
the case's first state, `open_case`), whoever acts: the applicant, the window or a department.

A transition checks the actor's right and the state, then locks the case row with one
conditional UPDATE that bumps its version: of two clerks (or twenty officers) pressing the same
button, one UPDATE matches and the others are told the case was handled. Inside the same
transaction the action's own rows are written (`effects`), then the state, a `CaseEvent` and the
audit entry; one commit; then the `case_transitioned` signal, for the domains that react
(notices, certificates). Nothing else writes `Case.state`.

Two ways a page's version is checked:
* exact (the window, the applicant): the page's version must be the case's;
* by `step_check` (a department's step in the workflow): a department's page stays valid while
  only the other departments of a joint step act; the step's own version decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, true, update

from ..audit import services as audit
from ..core import clock, rows
from ..core.extensions import db
from ..core.signals import case_transitioned, case_transitioning
from ..identity.models import Person
from . import statemachine
from .models import Case, CaseEvent
from .statemachine import TRANSITIONS


class CaseError(Exception):
    """A refusal shown to the person as it is (Chinese); nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleCase(CaseError):
    """Someone else acted on the case first."""


@dataclass
class Locked:
    """The case row as the locking UPDATE left it: what `effects` decide from."""

    version: int
    state: str
    stage: int | None


@dataclass
class Outcome:
    """What an action turned out to be once its effects were written (a department's decision
    becomes `approve` or `deny` only when the whole stage has decided)."""

    action: str
    target: str
    note: str | None = None
    changes: dict = field(default_factory=dict)


def get_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError(_("办件不存在。"))
    return case


def may_act(actor: Person | None, action: str, case: Case, department_id: int | None = None) -> bool:
    """Whether `actor` may fire `action` on `case`; an officer acts for `department_id` (the
    department of their workflow step), the case's lead department by default."""
    spec = TRANSITIONS[action]
    for kind in spec.actors:
        if kind == "system" and actor is None:
            return True
        if actor is None:
            continue
        if kind == "applicant" and case.applicant_id == actor.id:
            return True
        if kind == "clerk" and actor.has_role("clerk"):
            return True
        if kind == "officer" and "officer" in actor.roles(department_id or case.department_id):
            return True
    return False


def stale(case: Case, action: str) -> StaleCase:
    """The message for a page acting on a case that changed since it was shown."""
    db.session.refresh(case)
    return StaleCase(
        _(
            "无法%(action)s：该办件当前状态为“%(state)s”，可能已被他人处理。请刷新页面后查看。",
            action=TRANSITIONS[action].label,
            state=statemachine.label(case.state),
        )
    )


def refuse_unless_allowed(actor: Person | None, action: str, case: Case, department_id: int | None = None) -> None:
    if not may_act(actor, action, case, department_id):
        raise CaseError(_("您无权对该办件执行“%(action)s”。", action=TRANSITIONS[action].label))


def transition(
    case_id: int,
    action: str,
    actor: Person | None,
    expected_version: int | None,
    *,
    note: str | None = None,
    department_id: int | None = None,
    step_check: Callable[[Case], None] | None = None,
    effects: Callable[[Case, Locked], Outcome | None] | None = None,
    **changes,
) -> Case:
    """Fire one transition of the table in statemachine.py; exactly one of several concurrent
    callers wins, the others get `StaleCase`.

    `changes` are column values written with the state. `effects(case, locked)` writes the
    action's own rows in the same transaction, after the case row is locked, and may return an
    `Outcome` naming what the action turned out to be.
    """
    spec = TRANSITIONS[action]
    case = get_case(case_id)
    refuse_unless_allowed(actor, action, case, department_id)
    exact = step_check is None
    values = {"version": Case.version + 1}
    if exact:
        if case.state not in spec.sources or case.version != expected_version:
            raise stale(case, action)
        guard = Case.version == expected_version
        values.update(state=spec.target, **changes)
    else:
        step_check(case)
        guard = true()
    # The lock: one conditional UPDATE. On the step path it only bumps the version, so it
    # returns the state the case was really in when this transaction took it.
    row = db.session.execute(
        update(Case)
        .where(Case.id == case_id, guard, Case.state.in_(spec.sources))
        .values(**values)
        .returning(Case.version, Case.state, Case.current_stage)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        db.session.rollback()
        raise stale(case, action)
    rows.defer()  # the event, the audit entry and the notice go with the COMMIT (core.rows)
    from_state = case.state if exact else row.state
    outcome = Outcome(action, spec.target, note)
    if effects is not None:
        result = effects(case, Locked(row.version, from_state, row.current_stage))
        if isinstance(result, Outcome):
            outcome = result
    final = dict(outcome.changes) if exact else dict(changes, **outcome.changes)
    if outcome.target != (spec.target if exact else from_state):
        final["state"] = outcome.target
    if final:
        db.session.execute(
            update(Case).where(Case.id == case_id).values(**final).execution_options(synchronize_session=False)
        )
    record(case, outcome.action, actor, from_state, outcome.target, outcome.note, changes=dict(changes, **final))
    rows.commit()
    db.session.refresh(case)
    announce(case_id, outcome.action)
    return case


def open_case() -> dict:
    """The new case's first state (提交申请) and version, set here like every later one: columns
    for the caller's INSERT, which `record`s the submission once the case has its number."""
    return {"state": TRANSITIONS["submit"].target, "version": 1}


def record(
    case: Case,
    action: str,
    actor: Person | None,
    from_state: str,
    to_state: str,
    note: str | None,
    detail: dict | None = None,
    changes: dict | None = None,
) -> None:
    """The event and the audit entry of one transition, and the rows other domains write with it
    (`case_transitioning`), in the caller's transaction."""
    actor_id = getattr(actor, "id", None)
    rows.insert_many(  # nothing reads it back in the transaction (core.rows)
        CaseEvent,
        [
            {
                "case_id": case.id,
                "at": clock.now(),
                "actor_id": actor_id,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "note": note,
            }
        ],
    )
    audit.record(
        f"case.{action}",
        actor=actor_id,
        subject=f"case:{case.number}",
        case_id=case.id,
        detail=detail if detail is not None else {"from": from_state, "to": to_state, "note": note},
    )
    case_transitioning.send(
        current_app._get_current_object(), case=case, action=action, state=to_state, note=note, changes=changes or {}
    )


def announce(case_id: int, action: str) -> None:
    """After the commit: the other domains react (notices, certificates)."""
    case_transitioned.send(current_app._get_current_object(), case_id=case_id, action=action)


def by_idempotency_key(applicant_id: int, key: str) -> Case | None:
    return db.session.execute(
        select(Case).where(Case.applicant_id == applicant_id, Case.idempotency_key == key)
    ).scalar_one_or_none()
