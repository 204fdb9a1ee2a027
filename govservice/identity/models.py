"""People, their linked provider identities, departments, halls and staff roles."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import pii
from ..extensions import db
from ..models_base import UTCDateTime, utcnow

ROLES = ("clerk", "officer", "supervisor", "admin")


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

    links: Mapped[list["IdentityLink"]] = relationship(back_populates="person", cascade="all, delete-orphan")
    assignments: Mapped[list["StaffAssignment"]] = relationship(back_populates="person", cascade="all, delete-orphan")

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
        return {a.role for a in self.assignments if department_id is None or a.department_id == department_id}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def departments(self, role: str) -> list["Department"]:
        return [a.department for a in self.assignments if a.role == role and a.department is not None]

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

    person: Mapped[Person] = relationship(back_populates="assignments")
    department: Mapped[Department | None] = relationship()
    hall: Mapped[ServiceHall | None] = relationship()
