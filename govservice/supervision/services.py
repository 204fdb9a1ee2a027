"""Evaluations (好差评) and rectification (整改).

The dashboard's figures are in `figures.py`.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..calendar import working
from ..cases.models import Case
from ..core import clock
from ..core.extensions import db
from ..core.pagination import Key, Page, keyset
from ..identity.models import Person
from .models import Evaluation, RectificationTask

MAX_COMMENT = 500


class SupervisionError(Exception):
    """A refusal shown as it is; nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def scope(person: Person) -> list[int] | None:
    """The departments a supervisor oversees; None for one bound to no department (all)."""
    if person.has_role("admin"):
        return None
    bound = [d.id for d in person.departments("supervisor")]
    return bound or None


def in_scope(person: Person, department_id: int | None) -> bool:
    departments = scope(person)
    return departments is None or department_id in departments


# --- 好差评 ----------------------------------------------------------------------------------


def evaluate(case_id: int, actor: Person, rating, comment: str | None, *, channel: str) -> Evaluation:
    """The applicant rates a completed case 1-5, online or at the window (recorded by the clerk);
    1 or 2 opens a rectification task for the department's supervisor."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise SupervisionError(_("办件不存在。"))
    if channel == "online" and case.applicant_id != actor.id:
        raise SupervisionError(_("只有申请人可以评价该办件。"))
    if channel == "window" and not actor.has_role("clerk"):
        raise SupervisionError(_("只有综合窗口工作人员可以记录窗口评价。"))
    if case.state != "completed":
        raise SupervisionError(_("办件办结后才能评价。"))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise SupervisionError(_("请选择 1 到 5 分的评价。"))
    comment = (comment or "").strip() or None
    if rating <= 2 and not comment:
        raise SupervisionError(_("给出差评时请写明不满意的原因，以便部门整改。"))
    if comment and len(comment) > MAX_COMMENT:
        raise SupervisionError(_("评价内容不能超过 %(n)s 个字。", n=MAX_COMMENT))
    if case.evaluation is not None:
        raise SupervisionError(_("该办件已经评价过。"))
    now = clock.now()
    evaluation = Evaluation(
        case_id=case.id,
        department_id=case.department_id,
        rating=rating,
        comment=comment,
        channel=channel,
        recorded_by_id=actor.id,
        at=now,
    )
    try:
        db.session.add(evaluation)
        db.session.flush()
    except IntegrityError:  # rated at the same moment elsewhere
        db.session.rollback()
        raise SupervisionError(_("该办件已经评价过。")) from None
    if rating <= 2:
        due, _provisional = working.add_working_days(clock.today(), current_app.config["RECTIFICATION_DAYS"])
        db.session.add(
            RectificationTask(
                evaluation_id=evaluation.id,
                case_id=case.id,
                department_id=case.department_id,
                opened_at=now,
                due=due,
                status="open",
            )
        )
    audit.record(
        "evaluation.create",
        actor=actor,
        subject=f"case:{case.number}",
        case_id=case.id,
        detail={"rating": rating, "channel": channel},
    )
    db.session.commit()
    return evaluation


def rectification_tasks(supervisor: Person, *, status: str | None = None) -> list[RectificationTask]:
    query = select(RectificationTask).order_by(
        RectificationTask.status.desc(), RectificationTask.due, RectificationTask.id
    )
    departments = scope(supervisor)
    if departments is not None:
        query = query.where(RectificationTask.department_id.in_(departments))
    if status:
        query = query.where(RectificationTask.status == status)
    return list(db.session.execute(query).scalars())


def rectification_page(
    supervisor: Person, token: str | None = None, *, status: str | None = None, size: int = 20
) -> Page:
    """The tasks a page at a time: open before answered, then by due date, with what the page shows."""
    query = select(RectificationTask).options(
        joinedload(RectificationTask.case).joinedload(Case.item),
        joinedload(RectificationTask.department),
        joinedload(RectificationTask.evaluation),
        joinedload(RectificationTask.answered_by),
    )
    departments = scope(supervisor)
    if departments is not None:
        query = query.where(RectificationTask.department_id.in_(departments))
    if status:
        query = query.where(RectificationTask.status == status)
    return keyset(
        query,
        [Key(RectificationTask.status, descending=True), Key(RectificationTask.due), Key(RectificationTask.id)],
        token,
        size=size,
    )


def answer_rectification(task_id: int, supervisor: Person, expected_version: int, answer: str) -> RectificationTask:
    """整改反馈: the department's supervisor answers what was done; once, and required."""
    task = db.session.get(RectificationTask, task_id)
    if task is None:
        raise SupervisionError(_("整改任务不存在。"))
    if not supervisor.has_role("supervisor") or not in_scope(supervisor, task.department_id):
        raise SupervisionError(_("只有该部门的督办人员可以答复此整改任务。"))
    answer = (answer or "").strip()
    if not answer:
        raise SupervisionError(_("请填写整改情况。"))
    if len(answer) > 2000:
        raise SupervisionError(_("整改情况不能超过 %(n)s 个字。", n=2000))
    result = db.session.execute(
        update(RectificationTask)
        .where(
            RectificationTask.id == task_id,
            RectificationTask.version == expected_version,
            RectificationTask.status == "open",
        )
        .values(
            status="answered",
            answer=answer,
            answered_by_id=supervisor.id,
            answered_at=clock.now(),
            version=RectificationTask.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise SupervisionError(_("该整改任务已经答复，或页面已过期，请刷新后查看。"))
    audit.record("rectification.answer", actor=supervisor, subject=f"rectification:{task_id}", case_id=task.case_id)
    db.session.commit()
    db.session.refresh(task)
    return task
