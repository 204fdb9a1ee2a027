"""Review workflow from the item definition: stages of departments, in sequence or jointly (并联).

An item's `[[workflow]]` steps are flattened into stages: a sequential step of departments
[a, b] is two stages (a, then b); a joint step is one stage in which every department decides.
Pure functions; the transactions live in services.py.
"""

from __future__ import annotations

from dataclasses import dataclass

WAITING, PENDING, IN_REVIEW, APPROVED, DENIED, RETURNED, SKIPPED = (
    "waiting",
    "pending",
    "in_review",
    "approved",
    "denied",
    "returned",
    "skipped",
)
DECIDED = (APPROVED, DENIED)
OPEN = (PENDING, IN_REVIEW)


@dataclass(frozen=True)
class Stage:
    number: int
    mode: str  # sequential | joint
    departments: tuple[str, ...]  # department codes


def stages(definition: dict, lead_department: str) -> list[Stage]:
    """The stages of an item definition; an item without workflow is reviewed by its department."""
    steps = definition.get("workflow") or [{"mode": "sequential", "departments": [lead_department]}]
    out: list[Stage] = []
    for step in steps:
        departments = list(dict.fromkeys(step.get("departments") or [lead_department]))
        if step.get("mode") == "joint" and len(departments) > 1:
            out.append(Stage(len(out) + 1, "joint", tuple(departments)))
        else:
            for code in departments:
                out.append(Stage(len(out) + 1, "sequential", (code,)))
    return out


def stage_outcome(statuses: list[str]) -> str | None:
    """None while a department of the stage has yet to decide; then denied if any denied."""
    if any(s not in DECIDED for s in statuses):
        return None
    return DENIED if DENIED in statuses else APPROVED
