"""RFC 6962 inclusion and consistency proofs, answered from the stored tree: leaf hashes on the
entries and the perfect subtrees of level >= 1 in `audit_tree_nodes`. A proof needs O(log n)
hashes, fetched in one query per kind; no leaf range is ever rescanned."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from ..core.extensions import db
from . import merkle
from .sealer import checkpoints, entries, nodes


class ProofError(ValueError):
    """A question the tree cannot answer (sizes out of range, an entry not yet sealed)."""


def sealed_size() -> int:
    return db.session.execute(select(func.max(checkpoints.c.tree_size))).scalar() or 0


def _fetch(wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    leaves = sorted(index for level, index in wanted if level == 0)
    if leaves:
        for index, h in db.session.execute(
            select(entries.c.leaf_index, entries.c.leaf_hash).where(entries.c.leaf_index.in_(leaves))
        ):
            found[(0, index)] = bytes.fromhex(h)
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        if level:
            by_level.setdefault(level, []).append(index)
    if by_level:
        condition = or_(
            *(and_(nodes.c.level == level, nodes.c.idx.in_(sorted(indexes))) for level, indexes in by_level.items())
        )
        for level, index, h in db.session.execute(select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(condition)):
            found[(level, index)] = bytes.fromhex(h)
    missing = wanted - found.keys()
    if missing:
        raise ProofError(f"the stored tree lacks {len(missing)} nodes (run `audit verify`)")
    return found


def _hashes(ranges: list[tuple[int, int]]) -> list[bytes]:
    found = _fetch(merkle.needed_nodes(ranges))
    return [merkle.range_hash(a, b, lambda level, index: found[(level, index)]) for a, b in ranges]


def inclusion(index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf `index` in the tree of `size` leaves."""
    if not 0 < size <= sealed_size() or not 0 <= index < size:
        raise ProofError("the leaf must be inside a tree no larger than the latest checkpoint")
    return _hashes(merkle.inclusion_path(index, size))


def consistency(old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]): that the tree of `new` leaves extends the tree of `old` leaves."""
    if not 0 < old <= new <= sealed_size():
        raise ProofError("sizes must satisfy 0 < first <= second <= the latest checkpoint's size")
    if old == new:
        return []
    return _hashes(merkle.consistency_path(old, new))


def leaf_of(entry_id: int) -> tuple[int, bytes] | None:
    """(leaf index, leaf hash) of a sealed entry, or None."""
    row = db.session.execute(select(entries.c.leaf_index, entries.c.leaf_hash).where(entries.c.id == entry_id)).first()
    if row is None or row.leaf_index is None:
        return None
    return row.leaf_index, bytes.fromhex(row.leaf_hash)
