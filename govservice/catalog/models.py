"""Service items (政务服务事项), versioned: a case keeps the version it was filed under."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..identity.models import Department
from ..models_base import UTCDateTime, utcnow


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
