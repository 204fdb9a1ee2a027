"""Gap-free counters (case numbers, certificate serials) that stay unique under concurrency.

The row for a counter is locked (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite serialises
writers anyway) for the rest of the caller's transaction, so two requests never draw the
same value and a rolled-back transaction gives its value back.
"""
from __future__ import annotations

from sqlalchemy import Integer, String, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


class Counter(db.Model):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def next_value(name: str) -> int:
    session = db.session
    locked = select(Counter).where(Counter.name == name).with_for_update().execution_options(populate_existing=True)
    row = session.execute(locked).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.execute(insert(Counter).values(name=name, value=0))
        except IntegrityError:
            pass  # another transaction created it first; the lock below waits for it
        row = session.execute(locked).scalar_one()
    row.value += 1
    session.flush()
    return row.value
