"""The case state machine, as one table (see DESIGN.md).

draft -> submitted --(window pre-review)--> accepted -> in_review -> approved -> completed
                  \\-> supplement_requested -> submitted           \\-> denied  -> completed
                  \\-> not_accepted            withdrawn (before acceptance)
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


TRANSITIONS = {t.action: t for t in (
    Transition("submit", ("draft",), "submitted", ("applicant", "clerk"), _l("提交申请")),
    Transition("accept", ("submitted",), "accepted", ("clerk",), _l("受理")),
    Transition("request_supplement", ("submitted",), "supplement_requested", ("clerk",), _l("一次性告知补正")),
    Transition("resubmit", ("supplement_requested",), "submitted", ("applicant",), _l("补正后重新提交")),
    Transition("not_accept", ("submitted",), "not_accepted", ("clerk",), _l("不予受理")),
    Transition("withdraw", ("submitted", "supplement_requested"), "withdrawn", ("applicant",), _l("撤回申请")),
    Transition("claim", ("accepted",), "in_review", ("officer",), _l("认领审查")),
    Transition("approve", ("in_review",), "approved", ("officer",), _l("批准")),
    Transition("deny", ("in_review",), "denied", ("officer",), _l("不予批准")),
    Transition("complete", ("approved", "denied"), "completed", ("system", "clerk"), _l("办结")),
)}


def label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))
