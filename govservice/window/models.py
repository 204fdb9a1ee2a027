"""Queue tickets of a service hall (叫号)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Person, ServiceHall


class QueueTicket(db.Model):
    """A number taken at the hall's machine, called by a clerk, served at the window."""

    __tablename__ = "queue_tickets"
    __table_args__ = (UniqueConstraint("hall_id", "day", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_halls.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)  # waiting | called | done | absent
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hall: Mapped[ServiceHall] = relationship()
    called_by: Mapped[Person | None] = relationship(foreign_keys=[called_by_id])
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])

    @property
    def number(self) -> str:
        return f"A{self.seq:03d}"
