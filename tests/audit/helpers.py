"""Shared by the audit tests: PostgreSQL-only marks, raw SQL tampering (appending in bulk: tests.factories)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from govservice.core.extensions import db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="concurrent writers need PostgreSQL (SQLite serialises every write transaction); "
    "run with DATABASE_URL=postgresql+psycopg://...",
)


def sql(statement: str, **params):
    """Tamper with the database as someone with write access to it would (no ORM, no services)."""
    with db.engine.begin() as conn:
        return conn.execute(text(statement), params)
