"""The audit log: appending (every domain), sealing and verifying it, and reading it back.

`record` is a plain INSERT in the caller's transaction: it takes no lock and reads no other
audit row, so audited actions of different requests never wait for each other. The entry gets
its place in the tamper-evident tree later, from the sealer (`sealer.seal`); `verify` checks
the whole log; `proofs` answers inclusion and consistency proofs from the stored tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..core import clock, rows
from ..core.extensions import db
from ..core.models_base import utcnow
from .models import AuditCheckpoint, AuditEntry
from .sealer import APPENDED, SealResult, seal  # noqa: F401  (re-exported)
from .verify import Report, verify  # noqa: F401  (re-exported)


def record(
    action: str,
    *,
    actor=None,
    subject: str | None = None,
    case_id: int | None = None,
    purpose: str | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits): an INSERT of the table
    at once, without the ORM's unit of work (`core.rows`); the sealer gives it its place later."""
    entry = rows.insert_one(
        AuditEntry,
        {
            "at": utcnow(),
            "actor_id": getattr(actor, "id", actor),
            "action": action,
            "subject": subject,
            "case_id": case_id,
            "purpose": purpose,
            "detail": detail or {},
        },
        key_needed=False,  # nobody reads it back: on PostgreSQL it may go with the commit
    )
    db.session.info[APPENDED] = True  # the commit wakes the embedded sealer
    return entry


# --- the state of the log ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    unsealed: int
    oldest_at: datetime | None

    @property
    def seconds(self) -> float:
        return max(0.0, (utcnow() - self.oldest_at).total_seconds()) if self.oldest_at else 0.0


def lag() -> Lag:
    """How far the sealer is behind: committed entries not yet in the tree, and the oldest one's time."""
    row = db.session.execute(
        select(func.count(AuditEntry.id), func.min(AuditEntry.at)).where(AuditEntry.leaf_index.is_(None))
    ).one()
    return Lag(row[0], row[1])


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)).scalar()


def checkpoints(*, after: int = -1, limit: int = 100) -> list[AuditCheckpoint]:
    """Checkpoints of tree size greater than `after`, smallest first (keyset pagination)."""
    return list(
        db.session.execute(
            select(AuditCheckpoint)
            .where(AuditCheckpoint.tree_size > after)
            .order_by(AuditCheckpoint.tree_size)
            .limit(limit)
        ).scalars()
    )


def checkpoint_of_size(size: int) -> AuditCheckpoint | None:
    return db.session.execute(select(AuditCheckpoint).where(AuditCheckpoint.tree_size == size)).scalar()


# --- reading the log (the supervision page) ---------------------------------------------------


@dataclass(frozen=True)
class Filters:
    action: str | None = None
    actor_id: int | None = None
    case_id: int | None = None
    subject: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    departments: tuple[int, ...] | None = None  # a department's supervisor: entries of its cases only

    @property
    def empty(self) -> bool:
        return not any((self.action, self.actor_id, self.case_id, self.subject, self.start, self.end))


def search(filters: Filters, *, before: int | None = None, limit: int = 50) -> tuple[list[AuditEntry], int | None]:
    """Entries matching `filters`, newest first, `limit` at a time: (entries, the `before` of the
    next page or None). Keyset pagination on id; each filter has an (x, id) index."""
    query = select(AuditEntry)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.case_id is not None:
        query = query.where(AuditEntry.case_id == filters.case_id)
    if filters.subject:
        query = query.where(AuditEntry.subject == filters.subject)
    if filters.start:
        query = query.where(AuditEntry.at >= filters.start)
    if filters.end:
        query = query.where(AuditEntry.at < filters.end)
    if filters.departments is not None:
        from ..cases.models import Case

        query = query.where(AuditEntry.case_id.in_(select(Case.id).where(Case.department_id.in_(filters.departments))))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(db.session.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def actions(recent: int = 5000) -> list[str]:
    """The actions of the latest entries, for the filter's suggestions (never a scan of the log)."""
    latest = select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(recent).subquery()
    return list(db.session.execute(select(latest.c.action).distinct().order_by(latest.c.action)).scalars())


ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+)")


def mask_text(value) -> str:
    """Free text of an entry as shown to staff: ID numbers, mobile numbers and e-mail addresses
    masked wherever they appear (most callers already record masked values)."""
    if value is None:
        return ""
    value = str(value)
    value = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), value)
    value = PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), value)
    return EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), value)


def day_range(start, end) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days [start, end] as UTC instants [from, to)."""
    lo = datetime.combine(start, datetime.min.time(), clock.BEIJING) if start else None
    hi = datetime.combine(end, datetime.min.time(), clock.BEIJING) + timedelta(days=1) if end else None
    return lo, hi
