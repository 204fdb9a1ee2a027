"""Rows every request reads and few requests change, kept in each process between requests.

The current version of a service item and the signed-in person with their roles are read by
nearly every request; their ORM queries cost more CPU than the rest of a submission's SQL. Such
a row is kept in the process (`core.mirror`: served only while its Redis subscription hears
every change) as a copy in no session, and each request gets its own copy of it with
`Session.merge(load=False)`, the pattern SQLAlchemy documents for caches: no SQL. A commit that
changes a watched row forgets its keys in this process and announces them to the others (well
under a millisecond on one network), so a role taken away is gone in every process at once.
Without Redis (the embedded default) nothing is kept: every request reads the row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from . import mirror
from .extensions import db

#: copies kept per process (about 2 KB each, a person with their roles or an item: ~5 MB), least
#: recently kept first out, apart from the mirror's other values
MAX_ROWS = 2_000
_WATCHED: dict[type, Callable[[Session, Any], set[str]]] = {}
_CHANGED = "rowcache_changed"


def get(key: str, load: Callable[[], Any], *relationships: str):
    """The row kept under `key` as this session's own object, else `load()`'s (kept, with the
    named relationships loaded, when the mirror is live). None is never kept."""
    copy = mirror.mirror()
    live = copy is not None and copy.live()
    if live:
        kept = copy.get(key)
        if kept is not None:
            return db.session.merge(kept, load=False)
        seq = copy.seq()  # before the read: a change committed meanwhile drops what is read
    row = load()
    if live and row is not None:
        copy.put(key, detached(row, *relationships), seq, group="rows", limit=MAX_ROWS)
    return row


def detached(row, *relationships: str):
    """A copy of `row` in no session, every column loaded, and copies of the rows of the named
    relationships (each a row or a list of rows): what `merge(load=False)` copies from."""
    mapper = type(row).__mapper__
    copy = mapper.class_manager.new_instance()
    for column in mapper.column_attrs:
        set_committed_value(copy, column.key, getattr(row, column.key))
    for name in relationships:
        value = getattr(row, name)
        if isinstance(value, list):
            set_committed_value(copy, name, [detached(v) for v in value])
        else:
            set_committed_value(copy, name, detached(value) if value is not None else None)
    make_transient_to_detached(copy)
    return copy


def watch(model: type, keys_of: Callable[[Session, Any], set[str]]) -> None:
    """A flushed change (new, changed or deleted) of a `model` row makes its commit forget and
    announce `keys_of(session, row)`."""
    _WATCHED[model] = keys_of
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _after_flush(session: Session, _context) -> None:
    keys: set[str] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        keys_of = _WATCHED.get(type(row))
        if keys_of is not None:
            keys |= keys_of(session, row)
    if keys:
        session.info.setdefault(_CHANGED, set()).update(keys)


def _after_commit(session: Session) -> None:
    keys = session.info.pop(_CHANGED, None)
    if keys and has_app_context() and not mirror.publish(keys := sorted(keys)):
        current_app.logger.error(
            "could not announce a change of %s in Redis; other processes keep their copies until "
            "their subscription to Redis drops or they restart",
            ", ".join(keys[:5]),
        )


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
