"""Registered self-service terminals (自助终端)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Person, ServiceHall


class KioskDevice(db.Model):
    """One terminal: registered by an administrator, enrolled at the device with a one-time code,
    then known by the hash of the secret it presents on every request; revoked, it is refused."""

    __tablename__ = "kiosk_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_halls.id"), nullable=False)
    #: The one-time enrollment code's SHA-256, until it is used or expires.
    enrollment_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrollment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The device secret's SHA-256 (the secret itself lives only in the device's cookie).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    #: The public key (PEM) of the terminal's ID-card reader agent, for signed readings.
    reader_key_pem: Mapped[str | None] = mapped_column(Text)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))  # None: on the command line
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hall: Mapped[ServiceHall] = relationship()
    registered_by: Mapped[Person | None] = relationship()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "enrolled" if self.enrolled_at is not None else "registered"
