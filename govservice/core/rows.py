"""Rows inserted on a hot path without the ORM's unit of work, and, on PostgreSQL, sent with the
commit.

A submission writes a case, its attachments and its event once and reads none of them back in
its transaction; through `Session.add` and a flush each costs the unit of work (dependency
sorting, state bookkeeping, attribute events): measured here, an ORM flush of a case 2.3-2.8 ms
of CPU, the same INSERT of the table (not of the mapped class) 0.4-0.7 ms. These are executed by
the session as table statements, in its transaction.

Each statement is also a round trip to the database, and on a busy machine the CPU of sending
and waiting for it (the client's and the server's) is most of its cost. After `defer()`, rows
that nothing reads back before the commit are kept instead, and `commit()` sends them and the
COMMIT in one script, one round trip (psycopg's client-side binding, the values quoted by psycopg
after each column's SQLAlchemy type has processed them). On SQLite `defer()` does nothing: each
row is written when given. A commit by any other way still writes the kept rows first, in the
transaction (`_before_commit`); a rollback drops them.

The statements whose answer is needed at once (the case's key, its number) go by psycopg itself
too on PostgreSQL (`fetch_one`), still seen by SQLAlchemy's `before_cursor_execute` listeners:
SQLAlchemy's execution around a statement cost more CPU than the driver's own part.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from . import counters
from .extensions import db

#: Session.info key: the rows kept for the commit, as (table, list of column values).
DEFERRED = "rows_deferred"


def insert_many(model, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (column values) of `model` in one statement, in the session's transaction
    (kept for the commit after `defer()`)."""
    if not rows:
        return
    kept = db.session.info.get(DEFERRED)
    if kept is not None:
        kept.append((model.__table__, [_with_defaults(model.__table__, row) for row in rows]))
    else:
        db.session.execute(model.__table__.insert(), rows)


@dataclass(frozen=True)
class Drawn:
    """A column whose value the INSERT draws: `prefix` and a number zero-padded to `width` digits
    (more once it has more).

    The number comes from the gap-free `counter` (core.counters), whose row stays locked until the
    drawing transaction ends, its COMMIT and the flush of the WAL included: every other drawer of
    the counter waits that long. With a `sequence`, on PostgreSQL it is that sequence's next value
    modulo 10^width instead, which waits for no one and is never given back (a transaction that
    fails leaves a gap); the numbers of one prefix stay unique while fewer than 10^width are drawn
    under it. SQLite (one writer at a time anyway) always draws from the counter."""

    column: str
    counter: str
    prefix: str
    width: int
    sequence: str | None = None

    def value(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"

    def cte(self, unless: str) -> tuple[str, list]:
        """PostgreSQL: the query of the CTE `drawn(value)` and its parameters; nothing is drawn
        when the query `unless` (SQL) finds a row."""
        if self.sequence is None:
            return counters.draw_sql(unless), [self.counter]
        return f"SELECT mod(nextval('{self.sequence}'), {10**self.width}) AS value WHERE NOT EXISTS ({unless})", []


def insert_one(model, values: dict[str, Any], *, key_needed: bool = True):
    """INSERT one row of `model` and return it as the session's own object, as if it had been
    loaded: the values given, the key the database gave it, every other column its default (a
    column whose default only the database knows is loaded when first read).

    With `key_needed=False`, after `defer()`, the row is kept for the commit and the object
    returned is transient: its values, no key."""
    kept = db.session.info.get(DEFERRED)
    if kept is not None and not key_needed:
        kept.append((model.__table__, [_with_defaults(model.__table__, values)]))
        return model(**values)
    table = model.__table__
    (key,) = table.primary_key.columns
    if db.session.get_bind().dialect.name == "postgresql":
        values = _with_defaults(table, values)
        head, placeholders, processors = _insert_sql(table, tuple(values))
        (given,) = fetch_one(f"{head} VALUES {placeholders} RETURNING {key.name}", _processed(values, processors))
    else:
        given = db.session.execute(table.insert().returning(key), values).scalar_one()
    return loaded(model, values, given)


def insert_new(model, values: dict[str, Any], unique: tuple[str, ...], *, drawn: Drawn | None = None):
    """`insert_one`, unless a row with the same values in the `unique` columns (a unique
    constraint's) is there already: (the row made, True), or (the row found, False) with nothing
    written and, with `drawn`, nothing drawn (the row found has its key and that column; the rest
    is loaded when first read). On PostgreSQL one statement either way: a form sent again after its
    first copy committed costs no refused INSERT, no rollback and no look-up by the ORM. A copy
    racing the first (neither sees the other's row yet) is refused by the constraint, as by
    `insert_one`: an IntegrityError, its statement undone (a counter's draw too; a sequence's value
    is skipped).

    With `drawn`, that column's value is drawn in the same statement (PostgreSQL: one statement
    and one row version, where numbering the row after it was an UPDATE that wrote the row and
    every index of it again). From a counter, the counter's row stays locked until the transaction
    ends, so the INSERT is best the caller's last statement before the commit; from a sequence,
    nothing waits."""
    if db.session.get_bind().dialect.name != "postgresql":  # SQLite: a second copy is refused at its INSERT
        if drawn is not None:
            values = {**values, drawn.column: drawn.value(counters.next_value(drawn.counter))}
        return insert_one(model, values), True
    table = model.__table__
    values = _with_defaults(table, values)
    draw, draw_parameters = drawn.cte("SELECT FROM found") if drawn is not None else (None, [])
    column, width = (drawn.column, drawn.width) if drawn is not None else (None, 0)
    sql, processors, unique_processors = _new_sql(table, tuple(values), unique, column, width, draw)
    parameters = _processed(values, unique_processors)
    if drawn is None:
        parameters += _processed(values, processors)
    else:
        parameters += [*draw_parameters, *_processed(values, processors), drawn.prefix]
    key, *number, created = fetch_one(sql, parameters)
    if drawn is not None:
        values = {**values, drawn.column: number[0]}
    if created:
        return loaded(model, values, key), True
    return loaded(model, {drawn.column: number[0]} if drawn is not None else {}, key, complete=False), False


def fetch_one(sql: str, parameters) -> tuple | None:
    """PostgreSQL: one statement (psycopg's placeholders) on the session's connection, in its
    transaction, by psycopg itself; its first row. SQLAlchemy's layers around a statement cost
    about 0.3 ms of CPU here, the driver's own part 0.07 (bench/submit_stages.py). Listeners of
    SQLAlchemy's `before_cursor_execute` still see the statement, and an error comes as
    SQLAlchemy's (an IntegrityError for a unique key taken), the connection invalidated if lost."""
    import psycopg

    connection = db.session.connection()
    with connection.connection.driver_connection.cursor() as cursor:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, False)
        try:
            cursor.execute(sql, parameters)
        except psycopg.Error as exc:
            lost = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(sql, parameters, exc, psycopg.Error, connection_invalidated=lost) from exc
        return cursor.fetchone()


def loaded(model, values: dict[str, Any], key, *, complete: bool = True):
    """The session's own object of a row just inserted with `values` and given `key`; not
    `complete`: of a row of which only `values` are known (the rest is read when first asked for)."""
    mapper = model.__mapper__
    if not complete and (present := db.session.identity_map.get(mapper.identity_key_from_primary_key([key]))):
        return present
    row = mapper.class_manager.new_instance()
    state = instance_state(row)
    loaded_values = state.dict  # as a query's loading fills it; make_transient_to_detached commits it
    for name, column, is_key, default in _columns(mapper):
        if column in values:
            loaded_values[name] = values[column]
        elif is_key:
            loaded_values[name] = key
        elif complete and default is not _EXPIRED:
            loaded_values[name] = default
    make_transient_to_detached(row)  # the columns not given are expired: read from the row if asked for
    db.session.add(row)  # clean: the next flush has nothing of it to write
    return row


_EXPIRED = object()


@functools.lru_cache(maxsize=128)
def _columns(mapper) -> tuple:
    """(attribute, column, is the key, value of a row inserted without it or _EXPIRED) of each
    column of `mapper`: a Python-side scalar default, NULL, or what only the database knows."""
    (key_column,) = mapper.local_table.primary_key.columns
    plan = []
    for attribute in mapper.column_attrs:
        (column,) = attribute.columns
        if column.default is not None and column.default.is_scalar:
            default = column.default.arg
        elif column.default is None and column.server_default is None:
            default = None
        else:
            default = _EXPIRED
        plan.append((attribute.key, column.key, column is key_column, default))
    return tuple(plan)


def defer() -> None:
    """Keep the rows inserted from now on in this transaction for `commit()` (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection()  # in a transaction: its end (commit or rollback) ends the keeping
        db.session.info.setdefault(DEFERRED, [])


def commit(*, expire: bool = True) -> None:
    """Commit the session's transaction; the rows kept since `defer()` go with the COMMIT, in one
    round trip. Without `expire`, the session's objects keep their values (the caller knows its
    transaction changed none of them but through the rows it wrote as given): expiring each, and
    reading it back when next used, is work for nothing."""
    kept = db.session.info.pop(DEFERRED, None)
    if kept:
        db.session.flush()  # the unit of work's own rows first, in the transaction
        try:
            _send(db.session, kept, commit=True)
        except Exception:
            db.session.rollback()
            raise
    session = db.session()
    session.expire_on_commit, expiring = expire, session.expire_on_commit
    try:
        session.commit()  # the session's hooks; the connection has committed already (psycopg: a no-op)
    finally:
        session.expire_on_commit = expiring


def _with_defaults(table, values: dict[str, Any]) -> dict[str, Any]:
    """The row with the values SQLAlchemy's INSERT would add: each missing column's Python-side
    default (the database's own defaults it adds itself)."""
    missing = [c for c in table.c if c.key not in values and c.default is not None and not c.default.is_sequence]
    if not missing:
        return values
    row = dict(values)
    for column in missing:
        default = column.default
        row[column.key] = default.arg(None) if default.is_callable else default.arg
    return row


@functools.lru_cache(maxsize=256)
def _insert_sql(table, names: tuple[str, ...]) -> tuple[str, str, tuple]:
    """("INSERT INTO table (names)", a row's "(%s, …)", each column's SQLAlchemy bind processor)."""
    dialect = db.engine.dialect
    quote = dialect.identifier_preparer.quote
    processors = tuple((name, table.c[name].type._cached_bind_processor(dialect)) for name in names)
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)})"
    return head, "(" + ", ".join(["%s"] * len(names)) + ")", processors


@functools.lru_cache(maxsize=64)
def _new_sql(
    table, names: tuple[str, ...], unique: tuple[str, ...], column: str | None, width: int, draw_query: str | None
):
    """`insert_new`'s statement: the row `found` by its `unique` values, else the row `made` (with
    `column` drawn by `draw_query`, `Drawn.cte`'s, unless found); returning (key, [column,]
    made). Its parameters: the unique values, [the draw's,] the row's values[, the prefix]; and
    each column's bind processor, the row's and the unique columns'."""
    head, _placeholders, processors = _insert_sql(table, names)
    dialect = db.engine.dialect
    quote = dialect.identifier_preparer.quote
    (key,) = table.primary_key.columns
    returned = quote(key.name) + (f", {quote(column)}" if column else "")
    where = " AND ".join(f"{quote(name)} = %s" for name in unique)
    found = f"SELECT {returned} FROM {quote(table.name)} WHERE {where}"
    row = ", ".join(["%s"] * len(names))
    if column is None:
        draw, made = "", f"{head} SELECT {row} WHERE NOT EXISTS (SELECT FROM found)"
    else:
        draw = f"drawn AS ({draw_query}), "
        made = f"{head[:-1]}, {quote(column)}) SELECT {row}, %s || {_padded(width)} FROM drawn"
    unique_processors = tuple((name, table.c[name].type._cached_bind_processor(dialect)) for name in unique)
    return (
        (
            f"WITH found AS ({found}), {draw}made AS ({made} RETURNING {returned}) "
            f"SELECT {returned}, true FROM made UNION ALL SELECT {returned}, false FROM found"
        ),
        processors,
        unique_processors,
    )


def _padded(width: int) -> str:
    """SQL: the counter's value drawn (the CTE `drawn`), zero-padded to `width` digits at least."""
    return f"lpad(drawn.value::text, greatest({width:d}, length(drawn.value::text)), '0')"


def _processed(row: dict[str, Any], processors) -> list:
    return [
        process(row[name]) if process is not None and row[name] is not None else row[name]
        for name, process in processors
    ]


def _send(session, kept: list, *, commit: bool) -> None:
    from psycopg import ClientCursor

    connection = session.connection()
    statements, parameters = [], []
    for table, values in kept:
        for names, group in itertools.groupby(values, key=tuple):
            group = list(group)
            head, placeholders, processors = _insert_sql(table, names)
            statements.append(f"{head} VALUES " + ", ".join([placeholders] * len(group)))
            for row in group:
                parameters.extend(_processed(row, processors))
    if commit and not connection.in_nested_transaction():  # not when the session's commit is a savepoint's
        statements.append("COMMIT")
    driver = connection.connection.driver_connection
    with ClientCursor(driver) as cursor:
        cursor.execute(";\n".join(statements), parameters)


def _before_commit(session) -> None:
    kept = session.info.pop(DEFERRED, None)
    if kept:
        session.flush()
        _send(session, kept, commit=False)


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the session's transaction, not a savepoint inside it
        session.info.pop(DEFERRED, None)


event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_transaction_end", _forget)
