"""`audit verify`: recompute the whole log and check it against its signed checkpoints.

One pass over the sealed entries in leaf order, in chunks (keyset on leaf_index), never all
rows at once; memory stays O(chunk + log n) at any size. For each entry: its leaf hash is
recomputed from its contents and index and compared with the stored one, and the stored one
with its HMAC (the leaf key); the tree grows by the same frontier the sealer uses, and at each
checkpoint's size the root must equal the one in the checkpoint's signed note, whose signature
must verify under the platform's key. The perfect subtrees kept for proofs are compared as
they are recomputed. It stops at the first problem and names it:

  * an entry edited after sealing: its contents no longer give its (HMAC-valid) leaf hash;
  * a leaf hash or tree recomputed by someone without the keys: the HMAC fails at the first
    entry they changed, and the signature or the root of the next checkpoint fails;
  * an entry moved to another place (reordered): its index is part of its leaf, so it fails there;
  * a deleted entry: a leaf index is missing; entries deleted from the end (truncated): the log
    stops before the latest checkpoint's size; a deleted checkpoint: sealed entries beyond the
    latest checkpoint;
  * a checkpoint whose note, signature, stored root or frontier was changed;
  * with `external` notes (checkpoints an outside party kept): a log that no longer contains them.

Unsealed entries cannot be checked yet: they are counted, with the age of the oldest (the lag).
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select, text

from ..core.extensions import db
from ..core.models_base import utcnow
from . import checkpoint as cp
from .merkle import Frontier
from .sealer import ENTRY_COLUMNS, checkpoints, entries, entry_leaf, nodes


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | rewritten | missing | truncated | checkpoint | node | orphan | external
    message: str
    entry_id: int | None = None
    leaf_index: int | None = None
    tree_size: int | None = None  # of the checkpoint concerned

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    entries: int = 0  # sealed entries recomputed
    checkpoints: int = 0  # checkpoints checked
    external: int = 0  # outside checkpoints matched
    tree_size: int = 0  # of the latest checkpoint
    root_hash: str | None = None
    problem: Problem | None = None
    unsealed: int = 0
    oldest_unsealed_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def lag_seconds(self) -> float:
        if self.oldest_unsealed_at is None:
            return 0.0
        return max(0.0, (utcnow() - self.oldest_unsealed_at).total_seconds())

    def lines(self) -> list[str]:
        out = [
            f"checked {self.entries} sealed entries against {self.checkpoints} checkpoints "
            f"(tree size {self.tree_size}{', root ' + self.root_hash if self.root_hash else ''})"
        ]
        if self.external:
            out.append(f"{self.external} outside checkpoints are contained in the log")
        if self.unsealed:
            out.append(
                f"sealer lag: {self.unsealed} unsealed entries, the oldest {self.lag_seconds:.1f} s old "
                f"({self.oldest_unsealed_at.isoformat()})"
            )
        else:
            out.append("sealer lag: none (every entry is sealed)")
        out.extend(self.notes)
        out.append("OK: the log is intact" if self.ok else f"FAILED: {self.problem}")
        return out


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def verify(
    *, chunk: int = 5000, external: list[tuple[str, str]] = (), progress: Callable[[int], None] | None = None
) -> Report:
    """Check the whole log (see the module docstring). `external`: (label, signed note) pairs."""
    keys = cp.keys(create=False)
    report = Report()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for the whole pass; reads only
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        _check(conn, keys, report, max(1, chunk), list(external), progress)
        top, size = conn.execute(
            select(
                select(func.max(entries.c.leaf_index)).scalar_subquery(),
                select(func.max(checkpoints.c.tree_size)).scalar_subquery(),
            )
        ).one()
        if report.ok and top is not None and top + 1 > (size or 0):
            first = conn.execute(select(entries.c.id).where(entries.c.leaf_index == (size or 0))).scalar()
            report.problem = Problem(
                "orphan",
                f"entries are sealed up to leaf {top}, beyond the latest checkpoint (size {size or 0}): "
                f"a checkpoint was deleted; first entry without one: #{first} (leaf {size or 0})",
                entry_id=first,
                leaf_index=size or 0,
            )
        count, oldest = conn.execute(
            select(func.count(entries.c.id), func.min(entries.c.at)).where(entries.c.leaf_index.is_(None))
        ).one()
        report.unsealed, report.oldest_unsealed_at = count, oldest
        conn.rollback()
    return report


def _check(conn, keys: cp.Keys, report: Report, chunk: int, external: list[tuple[str, str]], progress) -> None:
    target = conn.execute(select(func.max(checkpoints.c.tree_size))).scalar() or 0
    report.tree_size = target
    wanted: dict[int, list[tuple[str, cp.Checkpoint]]] = defaultdict(list)
    for label, note in external:
        try:
            outside = cp.verify_with_keys(note, keys)
        except cp.CheckpointError as exc:
            report.problem = Problem("external", f"outside checkpoint {label}: {exc}")
            return
        if outside.size > target:
            report.problem = Problem(
                "external",
                f"outside checkpoint {label} is of size {outside.size}, but the log now ends at "
                f"{target}: entries or checkpoints were removed (rolled back)",
                tree_size=outside.size,
            )
            return
        wanted[outside.size].append((label, outside))

    stream = _checkpoints(conn, target)
    current = next(stream, None)
    frontier = Frontier()
    previous_id, previous_size = 0, 0

    def at_size() -> Problem | None:
        nonlocal current, previous_id, previous_size
        size = frontier.size
        root = None
        for label, outside in wanted.pop(size, ()):
            root = root or frontier.root()
            if outside.root != root:
                return Problem(
                    "external",
                    f"outside checkpoint {label} (size {size}) does not match the log: "
                    "it was rewritten after that checkpoint was published",
                    tree_size=size,
                )
            report.external += 1
        while current is not None and current.tree_size == size:
            root = root or frontier.root()
            where = f"checkpoint #{current.id} (tree size {size})"
            try:
                signed = cp.verify_with_keys(current.note, keys)
            except cp.CheckpointError as exc:
                return Problem("checkpoint", f"{where}: its signed note fails: {exc}", tree_size=size)
            if signed.size != current.tree_size or signed.root.hex() != current.root_hash:
                return Problem(
                    "checkpoint", f"{where}: the stored size or root differs from its signed note", tree_size=size
                )
            if signed.root != root:
                return Problem(
                    "checkpoint",
                    f"{where}: the entries in leaves {previous_size}..{size - 1} do not give the signed root",
                    tree_size=size,
                )
            if list(current.frontier or []) != [h.hex() for h in frontier.hashes]:
                return Problem("checkpoint", f"{where}: its stored frontier differs from the tree", tree_size=size)
            if current.id <= previous_id:
                return Problem("checkpoint", f"{where}: checkpoints are out of order", tree_size=size)
            previous_id, previous_size = current.id, size
            report.checkpoints += 1
            report.root_hash = current.root_hash
            current = next(stream, None)
        return None

    expected = 0
    while expected < target:
        rows = conn.execute(
            select(entries.c.leaf_index, entries.c.leaf_hash, entries.c.leaf_mac, *ENTRY_COLUMNS)
            .where(and_(entries.c.leaf_index >= expected, entries.c.leaf_index < target))
            .order_by(entries.c.leaf_index)
            .limit(chunk)
        ).all()
        if not rows:
            break
        made: list[tuple[int, int, bytes]] = []
        for row in rows:
            if row.leaf_index != expected:
                report.problem = Problem(
                    "missing",
                    f"leaf {expected} is missing (a sealed entry was deleted); "
                    f"the next one is entry #{row.id} at leaf {row.leaf_index}",
                    leaf_index=expected,
                )
                return
            leaf = entry_leaf(expected, row)
            where = f"entry #{row.id} (leaf {expected}, {row.action})"
            if row.leaf_hash != leaf.hex():
                genuine = row.leaf_hash is not None and _same(
                    keys.leaf_mac(expected, bytes.fromhex(row.leaf_hash)), row.leaf_mac
                )
                report.problem = Problem(
                    "edited" if genuine else "rewritten",
                    f"{where}: its contents were changed after it was sealed"
                    if genuine
                    else f"{where}: its contents and leaf hash do not belong at this place (changed or moved)",
                    entry_id=row.id,
                    leaf_index=expected,
                )
                return
            if not _same(keys.leaf_mac(expected, leaf), row.leaf_mac):
                report.problem = Problem(
                    "rewritten",
                    f"{where}: its leaf hash was recomputed without the key (the HMAC fails)",
                    entry_id=row.id,
                    leaf_index=expected,
                )
                return
            made.extend(frontier.append(leaf))
            expected += 1
            report.entries += 1
            if expected in wanted or (current is not None and current.tree_size == expected):
                problem = at_size()
                if problem:
                    report.problem = problem
                    return
        problem = _check_nodes(conn, made)
        if problem:
            report.problem = problem
            return
        if progress:
            progress(expected)
    if expected < target:
        report.problem = Problem(
            "truncated",
            (f"the sealed entries stop at leaf {expected - 1}" if expected else "no sealed entry is left")
            + f", but the latest checkpoint is of size {target}: leaves {expected}..{target - 1} were deleted "
            "(truncated)",
            leaf_index=expected,
            tree_size=target,
        )
        return
    if current is not None and report.ok:  # a checkpoint of a size no prefix reached (e.g. 0)
        report.problem = Problem(
            "checkpoint",
            f"checkpoint #{current.id} has tree size {current.tree_size}, which the entries never reach",
            tree_size=current.tree_size,
        )


def _checkpoints(conn, target: int, chunk: int = 1000):
    after = -1
    while True:
        rows = conn.execute(
            select(checkpoints)
            .where(and_(checkpoints.c.tree_size > after, checkpoints.c.tree_size <= target))
            .order_by(checkpoints.c.tree_size)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].tree_size


def _check_nodes(conn, made: list[tuple[int, int, bytes]]) -> Problem | None:
    by_level: dict[int, dict[int, bytes]] = defaultdict(dict)
    for level, index, h in made:
        by_level[level][index] = h
    for level, wanted in sorted(by_level.items()):
        stored = dict(
            conn.execute(
                select(nodes.c.idx, nodes.c.hash).where(
                    and_(nodes.c.level == level, nodes.c.idx >= min(wanted), nodes.c.idx <= max(wanted))
                )
            ).all()
        )
        for index, h in sorted(wanted.items()):
            if stored.get(index) != h.hex():
                first = index << level
                return Problem(
                    "node",
                    f"the stored tree node at level {level}, index {index} (leaves {first}.."
                    f"{first + (1 << level) - 1}) differs from the entries: proofs would fail",
                    leaf_index=first,
                )
    return None
