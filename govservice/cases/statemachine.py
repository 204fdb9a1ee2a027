"""The case state machine, as one table (see DESIGN.md).

draft -> submitted --(window pre-review)--> accepted -> in_review -> approved -> completed
                  \\-> supplement_requested -> submitted           \\-> denied  -> completed
                  \\-> not_accepted            withdrawn (before acceptance)

A department may also send a case under review back for a supplement (in_review ->
supplement_requested); the answer returns it to the window (-> submitted), which checks it
and hands it back to review (-> accepted) with the clock resumed. Some actions keep the state
(target == source): a second department claiming its part of a joint step, one department's
decision while others of the step are still deciding, and 出件 (handing the result over).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "draft": _l("草稿"),
    "submitted": _l("待受理"),
    "supplement_requested": _l("待补正"),
    "not_accepted": _l("不予受理"),
    "withdrawn": _l("已撤回"),
    "accepted": _l("已受理"),
    "in_review": _l("审查中"),
    "approved": _l("已批准"),
    "denied": _l("不予批准"),
    "completed": _l("已办结"),
}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]  # applicant | clerk | officer | system
    label: str


TRANSITIONS = {
    t.action: t
    for t in (
        Transition("submit", ("draft",), "submitted", ("applicant", "clerk"), _l("提交申请")),
        Transition("accept", ("submitted",), "accepted", ("clerk",), _l("受理")),
        Transition("request_supplement", ("submitted",), "supplement_requested", ("clerk",), _l("一次性告知补正")),
        Transition("return_for_supplement", ("in_review",), "supplement_requested", ("officer",), _l("退回窗口补正")),
        Transition("resubmit", ("supplement_requested",), "submitted", ("applicant", "clerk"), _l("补正后重新提交")),
        Transition("not_accept", ("submitted", "supplement_requested"), "not_accepted", ("clerk",), _l("不予受理")),
        Transition("withdraw", ("submitted", "supplement_requested"), "withdrawn", ("applicant",), _l("撤回申请")),
        # The timer (cases/lapses.py): a supplement not supplied by its date, the application is
        # deemed withdrawn (视为撤回申请).
        Transition("lapse", ("supplement_requested",), "withdrawn", ("system",), _l("逾期未补正，视为撤回申请")),
        Transition("claim", ("accepted", "in_review"), "in_review", ("officer",), _l("认领审查")),
        Transition("step_approve", ("in_review",), "in_review", ("officer",), _l("部门审查同意")),
        Transition("step_deny", ("in_review",), "in_review", ("officer",), _l("部门审查不同意")),
        Transition("approve", ("in_review",), "approved", ("officer",), _l("批准")),
        Transition("deny", ("in_review",), "denied", ("officer",), _l("不予批准")),
        Transition("complete", ("approved", "denied"), "completed", ("system", "clerk"), _l("办结")),
        Transition("hand_over", ("completed",), "completed", ("clerk",), _l("出件")),
    )
}

STEP_STATUS_LABELS = {
    "waiting": _l("未开始"),
    "pending": _l("待认领"),
    "in_review": _l("审查中"),
    "approved": _l("同意"),
    "denied": _l("不同意"),
    "returned": _l("已退回补正"),
    "skipped": _l("未进行"),
}


def label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def action_label(action: str) -> str:
    spec = TRANSITIONS.get(action)
    return str(spec.label) if spec else action


def step_label(status: str) -> str:
    return str(STEP_STATUS_LABELS.get(status, status))
