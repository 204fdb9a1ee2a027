"""Gap-free counters that stay unique under concurrency (on PostgreSQL, case numbers and
certificate serials come from sequences instead, which no one waits for: cases.services,
certificates.serials).

The row for a counter is locked by its upsert (PostgreSQL; SQLite serialises writers anyway) for
the rest of the caller's transaction, so two requests never draw the same value and a
rolled-back transaction gives its value back. Callers take the value last, just before their
commit, so the lock is held for the commit alone.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


def draw_sql(unless: str) -> str:
    """PostgreSQL: a counter's next value (the row made by the day's first draw) in one statement,
    as the CTE `drawn(value)` of the statement that uses it (core.rows.Drawn); one parameter, the
    name. Nothing is drawn when the query `unless` (SQL) finds a row."""
    return (
        f"INSERT INTO counters (name, value) SELECT %s, 1 WHERE NOT EXISTS ({unless}) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
    )


class Counter(db.Model):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def next_value(name: str) -> int:
    """The counter's next value (the row made by its first draw), in one statement, the same
    upsert as `draw_sql`'s on both databases; its row stays locked until the caller's transaction
    ends, so take it as the last statement before the commit."""
    dialect = sqlite if db.session.get_bind().dialect.name == "sqlite" else postgresql
    draw = (
        dialect.insert(Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return db.session.execute(draw).scalar_one()
