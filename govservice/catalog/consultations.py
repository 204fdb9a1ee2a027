"""Online consultation (网上咨询): a signed-in person asks about an item; an officer of the
item's department answers; an answer can be published as FAQ on the guide, in a wording the
officer chooses (the question as asked may hold personal details and stays private)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import services as audit
from ..core import clock, pii
from ..core.extensions import db
from ..core.signals import consultation_answered
from .models import Consultation, ServiceItem

QUESTION_MIN, QUESTION_MAX, ANSWER_MAX = 5, 500, 2000


class ConsultationError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def ask(person, item: ServiceItem, question: str) -> Consultation:
    question = (question or "").strip()
    if len(question) < QUESTION_MIN:
        raise ConsultationError(_("请把问题写清楚（至少%(n)s个字）。", n=QUESTION_MIN))
    if len(question) > QUESTION_MAX:
        raise ConsultationError(_("问题不能超过%(n)s个字。", n=QUESTION_MAX))
    consultation = Consultation(
        item_code=item.code,
        department_id=item.department_id,
        asker_id=person.id,
        question_enc=pii.encrypt(question),
        asked_at=clock.now(),
    )
    db.session.add(consultation)
    db.session.flush()
    audit.record(
        "catalog.consultation.ask", actor=person, subject=f"consultation:{consultation.id}", detail={"item": item.code}
    )
    db.session.commit()
    return consultation


def may_answer(person, consultation: Consultation) -> bool:
    return "officer" in person.roles(consultation.department_id)


def answer(
    officer, consultation_id: int, text: str, *, publish: bool = False, public_question: str | None = None
) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise ConsultationError(_("咨询不存在。"))
    if not may_answer(officer, consultation):
        raise ConsultationError(_("只有该事项实施部门的工作人员可以答复。"))
    text = (text or "").strip()
    if not text:
        raise ConsultationError(_("请填写答复内容。"))
    if len(text) > ANSWER_MAX:
        raise ConsultationError(_("答复不能超过%(n)s个字。", n=ANSWER_MAX))
    public_question = (public_question or "").strip()
    if publish and not public_question:
        raise ConsultationError(_("公开为常见问题时，请填写公开的问题表述（不含个人信息）。"))
    if len(public_question) > QUESTION_MAX:
        raise ConsultationError(_("问题不能超过%(n)s个字。", n=QUESTION_MAX))
    first_answer = consultation.answer is None
    consultation.answer, consultation.answered_by_id, consultation.answered_at = text, officer.id, clock.now()
    consultation.published = bool(publish)
    consultation.public_question = public_question or None
    audit.record(
        "catalog.consultation.answer",
        actor=officer,
        subject=f"consultation:{consultation.id}",
        detail={"item": consultation.item_code, "published": consultation.published},
    )
    db.session.commit()
    if first_answer:
        consultation_answered.send(current_app._get_current_object(), consultation_id=consultation.id)
    return consultation


def published_faq(item_code: str) -> list[Consultation]:
    return list(
        db.session.execute(
            select(Consultation)
            .where(Consultation.item_code == item_code, Consultation.published.is_(True))
            .order_by(Consultation.answered_at)
        ).scalars()
    )


def asked_by(person, item_code: str | None = None) -> list[Consultation]:
    query = select(Consultation).where(Consultation.asker_id == person.id)
    if item_code:
        query = query.where(Consultation.item_code == item_code)
    return list(db.session.execute(query.order_by(Consultation.id.desc())).scalars())


def inbox(officer) -> list[Consultation]:
    """The questions for the officer's departments: unanswered first, oldest first."""
    departments = [d.id for d in officer.departments("officer")]
    return list(
        db.session.execute(
            select(Consultation)
            .where(Consultation.department_id.in_(departments))
            .order_by(Consultation.answer.is_not(None), Consultation.asked_at, Consultation.id)
        ).scalars()
    )
