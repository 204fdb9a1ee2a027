"""Evaluations (好差评) and the rectification tasks a poor rating opens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..cases.models import Case
from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Department, Person


class Evaluation(db.Model):
    """The applicant's rating of a completed case, 1 (very poor) to 5 (very good); one per case."""

    __tablename__ = "evaluations"
    # The dashboard's ratings per department, counted from the index alone (migration 0620).
    __table_args__ = (Index("ix_evaluations_department_rating", "department_id", "rating"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # online | window
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    case: Mapped[Case] = relationship(backref=backref("evaluation", uselist=False))
    department: Mapped[Department | None] = relationship()
    recorded_by: Mapped[Person] = relationship()


class RectificationTask(db.Model):
    """整改: a rating of 1 or 2 asks the department's supervisor for an answer by a date."""

    __tablename__ = "rectification_tasks"
    # Listed open first, by due date (migration 0620).
    __table_args__ = (Index("ix_rectification_tasks_status_due", "status", "due", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), nullable=False, unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # open | answered
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    evaluation: Mapped[Evaluation] = relationship(backref=backref("rectification", uselist=False))
    case: Mapped[Case] = relationship()
    department: Mapped[Department | None] = relationship()
    answered_by: Mapped[Person | None] = relationship()
