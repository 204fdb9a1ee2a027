"""Sealing: unsealed audit entries become leaves of the Merkle tree, batch by batch, each batch
ending in a signed checkpoint.

Appending (`services.record`) is a plain INSERT, so entries commit in any order and at any
time. The sealer takes the committed, unsealed ones in id order (an entry whose transaction
commits late simply goes into a later batch), gives them the next leaf indexes, stores each
leaf hash with an HMAC of (index, hash), extends the tree from the previous checkpoint's
frontier, keeps the perfect subtrees it completed (for proofs) and writes the new checkpoint,
all in one transaction: a sealer that dies mid-batch leaves nothing half-done. Only one runs at
a time: on PostgreSQL it holds a transaction-scoped advisory lock (a second sealer does not
wait: it finds the lock taken and leaves the work to the first); SQLite serialises writers
anyway and the batch runs under BEGIN IMMEDIATE.

Who runs it:
  * with a Celery broker (`CELERY_BROKER_URL`), the beat schedule runs `audit.seal` every
    `AUDIT_SEAL_INTERVAL` seconds (`celery -A govservice.app.worker beat` beside the workers);
  * embedded (no broker), a daemon thread in each app process (`InlineSealer`): a commit that
    appended entries wakes it, it waits `AUDIT_SEAL_DELAY` seconds so the entries of the next
    few requests join the same batch, then seals; it also looks every `AUDIT_SEAL_INTERVAL`
    seconds, and a process that exits seals what it appended (atexit). The request itself only
    sets an event: it never waits for sealing, for a lock or for another request.
  * `flask --app app govservice audit seal` at any time.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context
from sqlalchemy import bindparam, event, func, insert, select, text
from sqlalchemy.orm import Session

from ..core import process
from ..core.extensions import db
from ..core.models_base import utcnow
from . import checkpoint as cp
from .merkle import Frontier, leaf_hash
from .models import AuditCheckpoint, AuditEntry, AuditTreeNode

log = logging.getLogger(__name__)

#: pg_advisory lock key of the sealer ("govaudi" in ASCII).
LOCK_KEY = 0x676F7661756469
SCHEMA_VERSION = 1
APPENDED = "audit_appended"

entries = AuditEntry.__table__
checkpoints = AuditCheckpoint.__table__
nodes = AuditTreeNode.__table__

#: The columns an entry's leaf is made of, in the order `canonical` takes them.
ENTRY_COLUMNS = (
    entries.c.id,
    entries.c.at,
    entries.c.actor_id,
    entries.c.action,
    entries.c.subject,
    entries.c.case_id,
    entries.c.purpose,
    entries.c.detail,
)


class SealerRefused(RuntimeError):
    """The stored tree is not in a state a batch can be added to (run `audit verify`)."""


def _utc(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(index: int, entry_id: int, at: datetime, actor_id, action, subject, case_id, purpose, detail) -> bytes:
    """The bytes an entry's leaf hash is taken over: UTF-8 JSON with sorted keys and no
    whitespace, holding the schema version, the leaf index, the entry's id and every field."""
    return json.dumps(
        {
            "v": SCHEMA_VERSION,
            "index": index,
            "id": entry_id,
            "at": _utc(at),
            "actor": actor_id,
            "action": action,
            "subject": subject,
            "case": case_id,
            "purpose": purpose,
            "detail": detail if detail is not None else {},
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def entry_leaf(index: int, row) -> bytes:
    """The RFC 6962 leaf hash of a row holding ENTRY_COLUMNS, placed at `index`."""
    return leaf_hash(
        canonical(index, row.id, row.at, row.actor_id, row.action, row.subject, row.case_id, row.purpose, row.detail)
    )


@dataclass(frozen=True)
class SealResult:
    sealed: int  # entries given a leaf
    checkpoints: int  # checkpoints written
    tree_size: int
    root_hash: str | None
    busy: bool = False  # another sealer held the lock

    def __str__(self) -> str:
        if self.busy and not self.sealed:
            return "another sealer is running; nothing done here"
        return f"sealed {self.sealed} entries into {self.checkpoints} checkpoints; tree size {self.tree_size}" + (
            f", root {self.root_hash}" if self.root_hash else ""
        )


def _batch_size(batch: int | None) -> int:
    return max(1, int(batch or current_app.config.get("AUDIT_SEAL_BATCH", 2000)))


def seal(batch: int | None = None, max_batches: int | None = None) -> SealResult:
    """Seal every committed, unsealed entry, `batch` at a time (one checkpoint each), until a
    batch comes back short (caught up) or `max_batches` were written. Must run in an app
    context; uses connections of its own, never the caller's session or transaction."""
    size = _batch_size(batch)
    keys = cp.keys()
    engine = db.engine
    with engine.connect() as conn:  # cheap look first: idle ticks take no lock at all
        if conn.execute(select(entries.c.id).where(entries.c.leaf_index.is_(None)).limit(1)).first() is None:
            latest = conn.execute(
                select(checkpoints.c.tree_size, checkpoints.c.root_hash)
                .order_by(checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
            conn.rollback()
            return SealResult(0, 0, latest.tree_size if latest else 0, latest.root_hash if latest else None)
    sealed = written = 0
    tree_size, root, busy = 0, None, False
    while max_batches is None or written < max_batches:
        outcome = _seal_batch(engine, keys, size)
        if outcome is None:
            busy = True
            break
        count, tree_size, root = outcome
        if count == 0:
            break
        sealed += count
        written += 1
        if count < size:
            break
    if not written and not busy:
        with engine.connect() as conn:
            latest = conn.execute(
                select(checkpoints.c.tree_size, checkpoints.c.root_hash)
                .order_by(checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
            tree_size, root = (latest.tree_size, latest.root_hash) if latest else (0, None)
    return SealResult(sealed, written, tree_size, root, busy)


def _seal_batch(engine, keys: cp.Keys, size: int) -> tuple[int, int, str | None] | None:
    """One batch in one transaction: (entries sealed, tree size, root hex), or None if busy."""
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar():
                conn.rollback()
                return None
        latest = conn.execute(
            select(checkpoints.c.tree_size, checkpoints.c.root_hash, checkpoints.c.frontier)
            .order_by(checkpoints.c.tree_size.desc())
            .limit(1)
        ).first()
        if latest is None:
            frontier, root = Frontier(), None
        else:
            try:
                frontier = Frontier(latest.tree_size, [bytes.fromhex(h) for h in latest.frontier])
            except (TypeError, ValueError) as exc:
                raise SealerRefused(
                    f"the latest checkpoint's frontier is damaged ({exc}); run `audit verify`"
                ) from None
            root = latest.root_hash
        top = conn.execute(select(func.max(entries.c.leaf_index))).scalar()
        if (top + 1 if top is not None else 0) != frontier.size:
            raise SealerRefused(
                f"sealed entries reach leaf {top}, but the latest checkpoint is of size "
                f"{frontier.size}; run `audit verify`"
            )
        rows = conn.execute(
            select(*ENTRY_COLUMNS).where(entries.c.leaf_index.is_(None)).order_by(entries.c.id).limit(size)
        ).all()
        if not rows:
            conn.rollback()
            return 0, frontier.size, root
        leaves, made = [], []
        for row in rows:
            index = frontier.size
            leaf = entry_leaf(index, row)
            made.extend(frontier.append(leaf))
            leaves.append({"b_id": row.id, "b_index": index, "b_hash": leaf.hex(), "b_mac": keys.leaf_mac(index, leaf)})
        _set_leaves(conn, leaves)
        if made:
            _add_nodes(conn, made)
        new_root = frontier.root()
        at = utcnow().replace(microsecond=0)
        conn.execute(
            insert(checkpoints).values(
                tree_size=frontier.size,
                root_hash=new_root.hex(),
                frontier=[h.hex() for h in frontier.hashes],
                created_at=at,
                note=cp.sign(keys, frontier.size, new_root, at),
            )
        )
        conn.commit()
        return len(rows), frontier.size, new_root.hex()


#: PostgreSQL: the whole batch in one statement, as four arrays (an executemany would be one
#: round trip per row).
SET_LEAVES_PG = text(
    "UPDATE audit_entries AS e SET leaf_index = v.i, leaf_hash = v.h, leaf_mac = v.m "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:indexes AS bigint[]), CAST(:hashes AS text[]), "
    "CAST(:macs AS text[])) AS v(id, i, h, m) WHERE e.id = v.id AND e.leaf_index IS NULL"
)


ADD_NODES_PG = text(
    "INSERT INTO audit_tree_nodes (level, idx, hash) SELECT * FROM unnest(CAST(:levels AS smallint[]), "
    "CAST(:indexes AS bigint[]), CAST(:hashes AS text[]))"
)


def _add_nodes(conn, made: list[tuple[int, int, bytes]]) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            ADD_NODES_PG,
            {"levels": [m[0] for m in made], "indexes": [m[1] for m in made], "hashes": [m[2].hex() for m in made]},
        )
    else:
        conn.execute(insert(nodes), [{"level": level, "idx": index, "hash": h.hex()} for level, index, h in made])


def _set_leaves(conn, leaves: list[dict]) -> None:
    """Give the batch's entries their leaves (only entries still unsealed: under the lock, all)."""
    if conn.dialect.name == "postgresql":
        done = conn.execute(
            SET_LEAVES_PG,
            {
                "ids": [x["b_id"] for x in leaves],
                "indexes": [x["b_index"] for x in leaves],
                "hashes": [x["b_hash"] for x in leaves],
                "macs": [x["b_mac"] for x in leaves],
            },
        ).rowcount
    else:
        done = conn.execute(
            entries.update()
            .where(entries.c.id == bindparam("b_id"), entries.c.leaf_index.is_(None))
            .values(leaf_index=bindparam("b_index"), leaf_hash=bindparam("b_hash"), leaf_mac=bindparam("b_mac")),
            leaves,
        ).rowcount
    if done not in (len(leaves), -1):
        raise SealerRefused(f"{len(leaves) - done} entries of the batch changed under the sealer")


# --- the embedded sealer ----------------------------------------------------------------------


class InlineSealer:
    """A daemon thread per app process that seals soon after commits that appended entries."""

    def __init__(self, app: Flask, delay: float, interval: float):
        self.app, self.delay, self.interval = app, delay, interval
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._atexit = False
        self.stopped_explicitly = False
        self.last_result: SealResult | None = None
        self.last_error: str | None = None
        self._logged_at = 0.0

    def _running(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive() and self._pid == process.pid()

    def ensure_started(self) -> None:
        if self._running() or self._stop.is_set():
            return
        with self._lock:
            if self._running() or self._stop.is_set():
                return
            self._pid = process.pid()  # after a fork the parent's thread is gone: start our own
            self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
            self._thread.start()
            if not self._atexit:
                atexit.register(self._at_exit)
                self._atexit = True

    def poke(self) -> None:
        self.ensure_started()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(self.interval)
            if self._stop.is_set():
                break
            if woken:
                self._stop.wait(self.delay)  # let the next few commits join this batch
            self._wake.clear()
            try:
                with self.app.app_context():
                    result = seal()
                self.last_result, self.last_error = result, None
                if result.busy:
                    self._wake.set()  # the other sealer may have missed our entries: look again
            except Exception as exc:  # the database may be away: try again on the next tick
                if repr(exc) != self.last_error or time.monotonic() - self._logged_at > 60:
                    log.exception("audit sealing failed; trying again every %.0f s", self.interval)
                    self._logged_at = time.monotonic()
                self.last_error = repr(exc)
                self._stop.wait(self.interval)

    def stop(self, *, final_seal: bool = False, timeout: float = 30) -> None:
        self.stopped_explicitly = True
        self._halt(final_seal, timeout)

    def _at_exit(self) -> None:
        if not self.stopped_explicitly:
            self._halt(True, 30)

    def _halt(self, final_seal: bool, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout)
        if final_seal:
            try:
                with self.app.app_context():
                    seal()
            except Exception:
                log.exception("audit sealing at exit failed; the next sealer will seal these entries")


def mode(app: Flask) -> str:
    """thread | beat | off (`AUDIT_SEALER`; auto: beat with a Celery broker, else thread, off under TESTING)."""
    chosen = (app.config.get("AUDIT_SEALER") or "auto").strip().lower()
    if chosen == "auto":
        chosen = "off" if app.testing else ("beat" if app.config.get("CELERY_BROKER_URL") else "thread")
    if chosen not in ("thread", "beat", "off"):
        raise RuntimeError(f"AUDIT_SEALER must be auto, thread, beat or off, not {chosen!r}")
    return chosen


def init_app(app: Flask) -> None:
    chosen = mode(app)
    app.extensions["audit_sealer_mode"] = chosen
    if chosen == "thread":
        sealer = InlineSealer(
            app, float(app.config.get("AUDIT_SEAL_DELAY", 0.2)), float(app.config.get("AUDIT_SEAL_INTERVAL", 2))
        )
        app.extensions["audit_sealer"] = sealer
        app.before_request(sealer.ensure_started)
    _listen()


_listening = False


def _listen() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "after_commit", _after_commit)
        _listening = True


def _after_commit(session: Session) -> None:
    if session.info.pop(APPENDED, None) and has_app_context():
        sealer = current_app.extensions.get("audit_sealer")
        if sealer is not None:
            sealer.poke()
