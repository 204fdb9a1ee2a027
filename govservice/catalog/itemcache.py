"""Each process's copy of the current version of each service item, with its department.

Every application form, submission and guide reads its item; the ORM query of the row (a few KB
of definition, and the department joined) cost more CPU than the rest of a submission's SQL. An
item version never changes once synced except for `is_current`, and the catalogue changes only by
`sync_catalog`; so the row is kept in the process (`core.mirror`: served only while its Redis
subscription is up) and each request gets its own copy of it with `Session.merge(load=False)`,
the pattern SQLAlchemy documents for caches, no SQL. A commit that changes an item or a
department forgets the items it touched in this process and announces them to the others.
Without Redis (the embedded default) nothing is kept: every request reads the row.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..core import mirror, redis_link
from ..core.extensions import db
from ..identity.models import Department
from .models import ServiceItem

KEY = "catalog.item:"


def current(code: str) -> ServiceItem | None:
    """The current version of item `code` in this request's session, or None."""
    copy = mirror.mirror()
    live = copy is not None and copy.live()
    if live:
        kept = copy.get(KEY + code)
        if kept is not None:
            return db.session.merge(kept, load=False)
        seq = copy.seq()
    row = db.session.execute(
        select(ServiceItem)
        .where(ServiceItem.code == code, ServiceItem.is_current.is_(True))
        .options(joinedload(ServiceItem.department))  # a case of the item names its department
    ).scalar_one_or_none()
    if live and row is not None:
        copy.put(KEY + code, _detached(row), seq)
    return row


def _detached(row):
    """A copy of `row` (and of its department) in no session, every column loaded: what
    `merge(load=False)` copies from, never itself attached to a request's session."""
    mapper = type(row).__mapper__
    copy = mapper.class_manager.new_instance()
    for column in mapper.column_attrs:
        set_committed_value(copy, column.key, getattr(row, column.key))
    if isinstance(row, ServiceItem):
        set_committed_value(copy, "department", _detached(row.department))
    make_transient_to_detached(copy)
    return copy


# --------------------------------------------------------------------------- invalidation


def _after_flush(session: Session, _context) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    codes = {obj.code for obj in changed if isinstance(obj, ServiceItem)}
    departments = {obj.id for obj in changed if isinstance(obj, Department) and obj.id is not None}
    if departments:  # its name is shown with each of its items
        codes |= set(
            session.connection()
            .execute(select(ServiceItem.code).where(ServiceItem.department_id.in_(departments)))
            .scalars()
        )
    if codes:
        session.info.setdefault("catalog_items_changed", set()).update(codes)


def _after_commit(session: Session) -> None:
    codes = session.info.pop("catalog_items_changed", None)
    if not codes or not has_app_context():
        return
    copy = mirror.mirror()
    if copy is None:
        return
    keys = [KEY + code for code in sorted(codes)]
    copy.changed(keys)  # this process reads the new rows at once

    def announce(r):
        pipe = r.pipeline(transaction=False)
        copy.announce(pipe, keys)  # and every other process when it hears of it
        return pipe.execute()

    if redis_link.link().call(announce) is None:
        current_app.logger.error(
            "could not announce a catalogue change in Redis; other processes keep the items they "
            "hold until their subscription to Redis drops or they restart"
        )


def _after_rollback(session: Session) -> None:
    session.info.pop("catalog_items_changed", None)


def init_app(_app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
