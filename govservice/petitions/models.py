"""A request from the public (诉求): what it is, whom it is routed to, its time limits and answer."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Department, Person

_OPEN = "state IN ('submitted', 'accepted')"


class Petition(db.Model):
    __tablename__ = "petitions"
    __table_args__ = (
        Index("ix_petitions_requester_id", "requester_id", "id"),
        # a department's open requests by the nearer of their limits; supervision's overdue lists
        Index(
            "ix_petitions_open_department",
            "department_id",
            "state",
            "due",
            "id",
            postgresql_where=db.text(_OPEN),
            sqlite_where=db.text(_OPEN),
        ),
        Index("ix_petitions_figures", "state", "department_id", "kind", "submitted_on"),
        Index("ix_petitions_published", "published_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False
    )  # complaint | suggestion | help | consultation | petition
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    content_enc: Mapped[str] = mapped_column(Text, nullable=False)
    requester_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # online | window
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    # submitted -> accepted -> answered -> (rated) ; submitted -> not_accepted
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_on: Mapped[date] = mapped_column(Date, nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)  # the limit running now
    accepted_on: Mapped[date | None] = mapped_column(Date)
    extended_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)  # why not accepted
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    publish_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])
    department: Mapped[Department] = relationship()
    handled_by: Mapped[Person | None] = relationship(foreign_keys=[handled_by_id])

    @property
    def content(self) -> str:
        return pii.decrypt(self.content_enc)
