"""Applications (办件), their events and attachments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import pii
from ..catalog.models import ServiceItem
from ..extensions import db
from ..identity.models import Department, Person
from ..models_base import UTCDateTime, utcnow


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("applicant_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), nullable=False)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # online | window
    state: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False)
    form_data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[ServiceItem] = relationship()
    applicant: Mapped[Person] = relationship()
    department: Mapped[Department | None] = relationship()
    events: Mapped[list["CaseEvent"]] = relationship(back_populates="case", order_by="CaseEvent.id")
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="case", order_by="Attachment.id")

    @property
    def form_data(self) -> dict:
        return pii.decrypt_json(self.form_data_enc)


class CaseEvent(db.Model):
    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[Person | None] = relationship()


class Attachment(db.Model):
    """An uploaded material; the bytes live in blob storage, outside the web root."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    material_code: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    blob_key: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    case: Mapped[Case] = relationship(back_populates="attachments")
