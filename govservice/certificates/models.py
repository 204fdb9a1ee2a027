"""Issued electronic certificates (电子证照) and every verification of them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import pii
from ..extensions import db
from ..identity.models import Department, Person
from ..models_base import UTCDateTime, utcnow


class Certificate(db.Model):
    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    type_code: Mapped[str] = mapped_column(String(64), nullable=False)
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="valid")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    pdf_blob_key: Mapped[str] = mapped_column(String(255), nullable=False)
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    token: Mapped[str] = mapped_column(Text, nullable=False)

    holder: Mapped[Person] = relationship()
    issuer: Mapped[Department] = relationship()
    verifications: Mapped[list["Verification"]] = relationship(back_populates="certificate", order_by="Verification.id.desc()")

    @property
    def data(self) -> dict:
        return pii.decrypt_json(self.data_enc)


class Verification(db.Model):
    """One check of a certificate: by the public page, or a partner system."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # page | api
    verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    purpose: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16), nullable=False)

    certificate: Mapped[Certificate | None] = relationship(back_populates="verifications")
