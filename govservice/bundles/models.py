"""A bundle application (一件事), its member items (each becomes a case of its own) and the files
given once for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cases.models import Case
from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Person


class BundleApplication(db.Model):
    __tablename__ = "bundle_applications"
    __table_args__ = (
        UniqueConstraint("applicant_id", "idempotency_key"),
        Index("ix_bundle_applications_applicant_id", "applicant_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False)
    form_data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    applicant: Mapped[Person] = relationship(foreign_keys=[applicant_id])
    accepted_by: Mapped[Person | None] = relationship(foreign_keys=[accepted_by_id])
    members: Mapped[list[BundleMember]] = relationship(back_populates="bundle", order_by="BundleMember.position")
    files: Mapped[list[BundleFile]] = relationship(order_by="BundleFile.id")

    @property
    def form_data(self) -> dict:
        return pii.decrypt_json(self.form_data_enc)


class BundleMember(db.Model):
    """One item of the bundle: `created` (its case exists), `waiting` (for the certificate of
    `waits_for`), `cancelled` (what it waited for failed) or `failed` (its own case refused)."""

    __tablename__ = "bundle_members"
    __table_args__ = (UniqueConstraint("bundle_id", "item_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle_applications.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    item_name: Mapped[str] = mapped_column(String(200), nullable=False)
    waits_for: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    bundle: Mapped[BundleApplication] = relationship(back_populates="members")
    case: Mapped[Case | None] = relationship()


class BundleFile(db.Model):
    """A material given once on the bundle's form, kept for the member that waits to be filed."""

    __tablename__ = "bundle_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle_applications.id"), nullable=False, index=True)
    material_code: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    blob_key: Mapped[str] = mapped_column(String(255), nullable=False)
