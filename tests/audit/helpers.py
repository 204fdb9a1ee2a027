"""Shared by the audit tests: PostgreSQL-only marks, appending in bulk, raw SQL tampering."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from govservice.audit import services as audit
from govservice.core.extensions import db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="concurrent writers need PostgreSQL (SQLite serialises every write transaction); "
    "run with DATABASE_URL=postgresql+psycopg://...",
)


def append(n: int, action: str = "test.append", **fields) -> list[int]:
    """Append and commit n entries; their ids."""
    entries = [audit.record(action, subject=f"test:{i}", detail={"i": i, **fields}) for i in range(n)]
    db.session.commit()
    return [entry.id for entry in entries]


def sql(statement: str, **params):
    """Tamper with the database as someone with write access to it would (no ORM, no services)."""
    with db.engine.begin() as conn:
        return conn.execute(text(statement), params)
