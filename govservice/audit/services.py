"""Appending to and checking the hash-chained audit log."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from ..extensions import db
from ..models_base import utcnow
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    body = json.dumps({
        "seq": entry.seq, "at": entry.at.isoformat(), "actor": entry.actor_id, "action": entry.action,
        "subject": entry.subject, "case": entry.case_id, "purpose": entry.purpose, "detail": entry.detail,
    }, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(action: str, *, actor=None, subject: str | None = None, case_id: int | None = None,
           purpose: str | None = None, detail: dict | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits)."""
    head = db.session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    entry = AuditEntry(
        seq=head.seq + 1, at=utcnow().replace(microsecond=0), actor_id=getattr(actor, "id", actor),
        action=action, subject=subject, case_id=case_id, purpose=purpose, detail=detail or {},
        prev_hash=head.last_hash,
    )
    entry.hash = _digest(head.last_hash, entry)
    head.seq, head.last_hash = entry.seq, entry.hash
    db.session.add(entry)
    db.session.flush()
    return entry


def verify_chain() -> tuple[bool, int | None]:
    """Walk the chain; return (intact, seq of the first broken entry)."""
    prev = GENESIS
    for entry in db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if entry.prev_hash != prev or _digest(prev, entry) != entry.hash:
            return False, entry.seq
        prev = entry.hash
    return True, None
