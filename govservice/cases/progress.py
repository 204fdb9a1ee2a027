"""Where a case stands, as the applicant sees it on 我的办件: the steps from submission to the
result, which one is current and with which department, and the deadline with the working days
left. Read-only; built from the case, its review steps and the item's workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from ..calendar import working
from ..catalog.services import departments_by_code
from ..core import clock
from . import workflow

DONE, CURRENT, TODO, STOPPED = "done", "current", "todo", "stopped"
INTAKE_STATES = ("submitted", "supplement_requested")
ENDED_AT_WINDOW = ("not_accepted", "withdrawn")
REVIEW_STATES = ("accepted", "in_review")


@dataclass
class Step:
    label: str
    status: str
    departments: list = field(default_factory=list)  # names


@dataclass
class Progress:
    steps: list
    current: str  # what is happening now, in words
    departments: list  # who has the case now (names)
    deadline: date | None
    working_days_left: int | None
    level: str  # ok | due (one working day or less) | overdue | paused | none


def _department_names(case, codes, known: dict[str, str] | None = None) -> list[str]:
    names = dict(known or {})
    names.update({s.department.code: s.department.name for s in getattr(case, "steps", []) if s.department})

    if any(c not in names for c in codes):
        names.update({c: d.name for c, d in departments_by_code().items()})
    return [names.get(c, c) for c in codes]


def _stage_status(case, stage: workflow.Stage) -> str:
    rows = [s for s in getattr(case, "steps", []) if s.stage == stage.number]
    if case.state in INTAKE_STATES + ENDED_AT_WINDOW or not rows:
        if case.state in ("approved", "completed") and case.decision != "deny":
            return DONE
        return TODO
    statuses = [r.status for r in rows]
    if "denied" in statuses:
        return STOPPED
    if all(s in ("approved", "skipped") for s in statuses):
        return DONE
    if any(s in ("pending", "in_review", "returned") for s in statuses):
        return CURRENT
    return TODO


_UNSET = object()


def of(case, *, days_left=_UNSET, department_names: dict[str, str] | None = None) -> Progress:
    """`days_left` and `department_names` (code -> name) may come from the list's own query, so
    that a page of cases costs no query and no calendar walk per case."""
    item = case.item
    stages = workflow.stages(item.definition, item.department.code)
    steps = [Step(_("提交申请"), DONE)]
    if case.state in INTAKE_STATES:
        window = CURRENT
    elif case.state in ENDED_AT_WINDOW:
        window = STOPPED
    else:
        window = DONE
    steps.append(Step(_("综合窗口受理"), window))
    for stage in stages:
        label = _("并联审查") if stage.mode == "joint" else _("部门审查")
        status = _stage_status(case, stage)
        if status == TODO and case.state in REVIEW_STATES and not getattr(case, "steps", []) and stage.number == 1:
            status = CURRENT  # accepted before the workflow engine opened its stages
        steps.append(Step(label, status, _department_names(case, stage.departments, department_names)))
    result = item.definition.get("result_name") if not item.result_type else None
    result_label = _("办结") if not result else _("办结：%(result)s", result=result)
    steps.append(
        Step(
            result_label,
            DONE
            if case.state == "completed"
            else CURRENT
            if case.state in ("approved", "denied")
            else STOPPED
            if case.state in ENDED_AT_WINDOW
            else TODO,
        )
    )

    current = next((s for s in steps if s.status == CURRENT), None)
    if case.state == "supplement_requested":
        now, who = _("待申请人补正材料"), []
    elif case.state in ENDED_AT_WINDOW or case.state == "completed":
        now, who = "", []
    elif current is not None:
        now, who = current.label, current.departments
    else:
        now, who = "", []

    left, level = None, "none"
    if case.deadline and case.state not in ("completed",) + ENDED_AT_WINDOW:
        left = working.working_days_between(clock.today(), case.deadline) if days_left is _UNSET else days_left
        if getattr(case, "paused_since", None) is not None:
            level = "paused"
        elif left is None:
            level = "none"
        elif left < 0:
            level = "overdue"
        elif left <= 1:
            level = "due"
        else:
            level = "ok"
    return Progress(
        steps=steps, current=now, departments=who, deadline=case.deadline, working_days_left=left, level=level
    )
