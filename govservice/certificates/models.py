"""Issued electronic certificates (电子证照), their lifecycle, consent grants (授权用证) and every
verification of them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow
from ..identity.models import Department, Enterprise, Person

if TYPE_CHECKING:  # the partners domain's table, referred to by name
    from ..partners.models import PartnerClient


_TO_NOTIFY = "expiry_notified_at IS NULL AND expires_at IS NOT NULL AND status = 'valid'"


class Certificate(db.Model):
    """One issued certificate. ``status`` is what the issuer decided (valid, suspended, revoked,
    superseded); expiry is judged at the moment of asking (see ``services.status_of``)."""

    __tablename__ = "certificates"
    __table_args__ = (
        # A case issues one first certificate, however many issuers (retried or duplicated
        # tasks) race for it: the database lets one commit. Later versions (supersedes_id set)
        # may name the change application's case.
        Index(
            "uq_certificates_first_issue_case_id",
            "case_id",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
        # The expiry timer's walk (migration 08110): valid certificates not yet told of their expiry.
        Index(
            "ix_certificates_to_notify_expiry",
            "expires_at",
            "id",
            sqlite_where=text(_TO_NOTIFY),
            postgresql_where=text(_TO_NOTIFY),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    type_code: Mapped[str] = mapped_column(String(64), nullable=False)
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    # A business's certificate (holder kind "enterprise") is held by the enterprise: its legal
    # representative and its agents see and use it; holder_id is then the person who applied.
    holder_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    data_enc: Mapped[str] = mapped_column(Text, nullable=False)
    # pii.lookup_hash of the type's number field (证号, `number_field` in licenses/*.toml): an
    # applicant's typed licence number is looked up by it without decrypting every certificate
    number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="valid")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    pdf_blob_key: Mapped[str] = mapped_column(String(255), nullable=False)
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # the OFD rendering (GB/T 33190), made on its first download and kept (documents.py)
    ofd_blob_key: Mapped[str | None] = mapped_column(String(255))
    token: Mapped[str] = mapped_column(Text, nullable=False)
    # GB/T 36904 version (版本号): 1 for a first issue; a change of details re-issues the same
    # serial with the next version and supersedes the certificate it replaces.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # When the holder was told it expires soon (certificates.expiry; once per certificate).
    expiry_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    holder: Mapped[Person] = relationship()
    holder_enterprise: Mapped[Enterprise | None] = relationship()
    issuer: Mapped[Department] = relationship()
    supersedes: Mapped[Certificate | None] = relationship(remote_side=[id])
    verifications: Mapped[list[Verification]] = relationship(
        back_populates="certificate", order_by="Verification.id.desc()"
    )
    events: Mapped[list[CertificateEvent]] = relationship(back_populates="certificate", order_by="CertificateEvent.id")
    grants: Mapped[list[ConsentGrant]] = relationship(back_populates="certificate", order_by="ConsentGrant.id.desc()")

    @property
    def data(self) -> dict:
        return pii.decrypt_json(self.data_enc)

    @property
    def holder_label(self) -> str:
        """The holder as anyone may see it: a business's name in full, a person's masked."""
        if self.holder_enterprise is not None:
            return self.holder_enterprise.name
        return pii.mask_name(self.holder.name)


class CertificateEvent(db.Model):
    """One step of a certificate's life: issued, suspended, resumed, revoked, superseded."""

    __tablename__ = "certificate_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship(back_populates="events")
    actor: Mapped[Person | None] = relationship()


class ConsentGrant(db.Model):
    """授权用证: the holder lets one partner system read one certificate's full content, once,
    for a stated purpose, until a time. The code is kept encrypted (the holder may look at it
    again while it is live) and found by its keyed hash."""

    __tablename__ = "consent_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), nullable=False, index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    client_id: Mapped[int] = mapped_column(ForeignKey("partner_clients.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(255), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    code_enc: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship(back_populates="grants")
    granted_by: Mapped[Person] = relationship()
    client: Mapped[PartnerClient] = relationship()

    @property
    def code(self) -> str:
        return pii.decrypt(self.code_enc)


class Verification(db.Model):
    """One check or use of a certificate: the public page, a partner system, or an acceptance
    check of a material (免提交). Shown to the holder in the wallet."""

    __tablename__ = "verifications"
    # The wallet lists a certificate's verifications newest first, a page at a time (migration 0620).
    __table_args__ = (Index("ix_verifications_certificate_id_id", "certificate_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # The id the entry had in the verification queue (see verification.py): draining it twice
    # inserts it once. None for the checks written directly (materials, consent reads).
    uid: Mapped[str | None] = mapped_column(String(32), unique=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # page | api | case
    verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    purpose: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    # verify (status only) | read (full content, with consent) | material (免提交 at acceptance)
    action: Mapped[str] = mapped_column(String(16), nullable=False, default="verify")
    reason: Mapped[str | None] = mapped_column(String(32))  # why a check failed or was refused
    client_id: Mapped[int | None] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_grants.id"))

    certificate: Mapped[Certificate | None] = relationship(back_populates="verifications")
    client: Mapped[PartnerClient | None] = relationship()
    consent: Mapped[ConsentGrant | None] = relationship()
