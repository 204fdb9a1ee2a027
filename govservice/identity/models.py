"""People, their linked provider identities, departments, halls and staff roles; enterprises
and their agents; the server-side session store."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow

ROLES = ("clerk", "officer", "supervisor", "admin")
#: Where an assignment came from: kept by an admin on /admin/staff, or a provider's role claim.
SOURCE_ADMIN = "admin"


class Person(UserMixin, db.Model):
    """A natural person, keyed by the citizen ID number (一号)."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    id_number_enc: Mapped[str] = mapped_column(String(255), nullable=False)
    name_enc: Mapped[str] = mapped_column(String(255), nullable=False)
    phone_enc: Mapped[str | None] = mapped_column(String(255))
    level_of_assurance: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    links: Mapped[list[IdentityLink]] = relationship(back_populates="person", cascade="all, delete-orphan")
    assignments: Mapped[list[StaffAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan", foreign_keys="StaffAssignment.person_id"
    )

    @property
    def id_number(self) -> str:
        return pii.decrypt(self.id_number_enc)

    @property
    def name(self) -> str:
        return pii.decrypt(self.name_enc)

    @property
    def phone(self) -> str | None:
        return pii.decrypt(self.phone_enc)

    @property
    def masked_id_number(self) -> str:
        return pii.mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return pii.mask_name(self.name)

    def roles(self, department_id: int | None = None) -> set[str]:
        """The roles held, or those bound to `department_id` (officers: always bound to one)."""
        return {a.role for a in self.assignments if department_id is None or a.department_id == department_id}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def departments(self, role: str) -> list[Department]:
        return [a.department for a in self.assignments if a.role == role and a.department is not None]

    def halls(self, role: str) -> list[ServiceHall]:
        return [a.hall for a in self.assignments if a.role == role and a.hall is not None]

    @property
    def is_staff(self) -> bool:
        return bool(self.assignments)


class IdentityLink(db.Model):
    """One provider's subject, linked to the person its ID number names."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("provider", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="links")


class Department(db.Model):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    # The department's unified social credit code: the issuer part of certificate identifiers.
    uscc: Mapped[str] = mapped_column(String(18), nullable=False)


class ServiceHall(db.Model):
    __tablename__ = "service_halls"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)


class StaffAssignment(db.Model):
    """A staff role held by a person, bound to a department and/or a service hall."""

    __tablename__ = "staff_assignments"
    __table_args__ = (UniqueConstraint("person_id", "role", "department_id", "hall_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("service_halls.id"))

    source: Mapped[str] = mapped_column(String(64), nullable=False, default=SOURCE_ADMIN, server_default=SOURCE_ADMIN)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="assignments", foreign_keys=[person_id])
    department: Mapped[Department | None] = relationship()
    hall: Mapped[ServiceHall | None] = relationship()
    granted_by: Mapped[Person | None] = relationship(foreign_keys=[granted_by_id])

    @property
    def from_claim(self) -> bool:
        return self.source != SOURCE_ADMIN


class Enterprise(db.Model):
    """A business (市场主体), known by its unified social credit code; a copy of what the
    legal-person registry said when last asked, refreshed at each look-up."""

    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # active | deregistered | revoked
    legal_representative_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    registry_checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    legal_representative: Mapped[Person | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class AgentGrant(db.Model):
    """An authorisation by an enterprise's legal representative for a person to act for it
    (经办人授权): for all items or the listed ones, until a moment; revocable at once."""

    __tablename__ = "agent_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False)
    all_items: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    item_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    enterprise: Mapped[Enterprise] = relationship()
    agent: Mapped[Person] = relationship(foreign_keys=[agent_id])
    granted_by: Mapped[Person] = relationship(foreign_keys=[granted_by_id])
    revoked_by: Mapped[Person | None] = relationship(foreign_keys=[revoked_by_id])

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

    def covers(self, item_code: str) -> bool:
        return self.all_items or item_code in (self.item_codes or [])


class WebSession(db.Model):
    """A server-side session, when no Redis is configured. The cookie holds a random id; the
    row is keyed by its SHA-256, and the data are encrypted, so a copy of the table can
    neither hijack a session nor read what it holds."""

    __tablename__ = "web_sessions"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    idle_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
