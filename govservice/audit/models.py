"""The audit log: entries appended by every domain, sealed into a Merkle tree with signed
checkpoints (see `sealer`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import db
from ..core.models_base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One audited action. Appending is a plain INSERT in the caller's transaction; the sealer
    later gives the entry its place in the tree (`leaf_index`) and its `leaf_hash`, with an HMAC
    of both (`leaf_mac`). Nothing else ever updates or deletes a row."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(128))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    purpose: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[str | None] = mapped_column(String(64))
    leaf_mac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The supervision page filters by one of these and pages by id (keyset), newest first.
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_actor_id_id", "actor_id", "id"),
        Index("ix_audit_entries_case_id_id", "case_id", "id"),
        Index("ix_audit_entries_subject_id", "subject", "id"),
        Index("ix_audit_entries_at", "at"),
        # What the sealer reads: the entries not yet in the tree, in id order.
        Index(
            "ix_audit_entries_unsealed",
            "id",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )

    @property
    def sealed(self) -> bool:
        return self.leaf_index is not None


class AuditCheckpoint(db.Model):
    """A signed statement of the tree after one sealed batch: its size and root hash, and the
    right-edge frontier the next batch extends (hex hashes, largest subtree first)."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    root_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    frontier: Mapped[list] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)  # the signed note, as published


class AuditTreeNode(db.Model):
    """A perfect subtree of level >= 1, kept for inclusion and consistency proofs (level 0 is
    the entries' leaf_hash). Derived data: `audit verify` checks it too."""

    __tablename__ = "audit_tree_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
