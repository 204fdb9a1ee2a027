"""Service items (政务服务事项), versioned: a case keeps the version it was filed under."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow
from ..identity.models import Department


class ServiceItem(db.Model):
    __tablename__ = "service_items"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    result_type: Mapped[str | None] = mapped_column(String(64))
    time_limit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    level_of_assurance: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    audience: Mapped[str] = mapped_column(String(16), nullable=False)
    # The whole validated definition (guide, materials, fields, workflow), as loaded.
    definition: Mapped[dict] = mapped_column(JSON, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    department: Mapped[Department] = relationship()

    @property
    def fields(self) -> list[dict]:
        return self.definition.get("fields", [])

    @property
    def materials(self) -> list[dict]:
        return self.definition.get("materials", [])

    @property
    def guide(self) -> dict:
        return self.definition.get("guide", {})

    @property
    def issues_certificate(self) -> bool:
        return bool(self.result_type) and self.result_type != "none"

    def material(self, code: str) -> dict | None:
        return next((m for m in self.materials if m["code"] == code), None)


class SearchTerm(db.Model):
    """One search term of a current item: a CJK bigram or a latin word, with its best weight.

    Chinese has no spaces between words, so the catalogue is searched by character bigrams (as
    CJK full-text analysers do): "我想开饭店" finds the item whose keywords hold "开饭店". Plain
    tables and an IN query, so the search is the same on SQLite and PostgreSQL.
    """

    __tablename__ = "catalog_search_terms"
    __table_args__ = (UniqueConstraint("item_id", "term"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), nullable=False, index=True)
    term: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    weight: Mapped[int] = mapped_column(Integer, nullable=False)


class Consultation(db.Model):
    """网上咨询: a signed-in person's question about an item, answered by the department's staff,
    and published as FAQ if the staff choose (in a wording fit for everyone to read)."""

    __tablename__ = "consultations"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False, index=True)  # across versions
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    question_enc: Mapped[str] = mapped_column(Text, nullable=False)  # may hold personal details
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    public_question: Mapped[str | None] = mapped_column(Text)

    department: Mapped[Department] = relationship()

    @property
    def question(self) -> str:
        return pii.decrypt(self.question_enc)
