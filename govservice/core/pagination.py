"""One pagination helper for every list: keyset (seek) pages for long lists, offset pages for
short ones, and the same `Page` for the template's 上一页/下一页 links (templates/_pagination.html).

Keyset pages are ordered by a unique key (e.g. (deadline, id)): the next page is "the rows
after the last one shown", so a row added or removed between two clicks never makes the next
page skip or repeat a row, and the database seeks in an index instead of counting past the
rows before. The position travels in the link as an opaque, URL-safe token; a tampered or
stale token is not an error, the list simply starts from its first page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, false, or_, tuple_

from .extensions import db

DEFAULT_SIZE = 50


@dataclass(frozen=True)
class Key:
    """One column of a list's order. `nullable` columns sort their NULLs last in either direction."""

    column: Any
    descending: bool = False
    nullable: bool = False


@dataclass
class Page:
    items: list
    size: int
    param: str = "page"
    next: str | None = None  # the token of the following page, None on the last
    prev: str | None = None  # the token of the preceding page, None on the first
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __bool__(self):
        return bool(self.items)

    @property
    def paginated(self) -> bool:
        return self.next is not None or self.prev is not None


# --- Tokens ------------------------------------------------------------------------------------


def _encode_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    raise TypeError(f"cannot put {type(value).__name__} in a page token")


def _decode_value(value):
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        raise ValueError("unknown value in a page token")
    return value


def encode(direction: str, values: Sequence) -> str:
    raw = json.dumps([direction, [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str | None, width: int) -> tuple[str, list] | None:
    """(direction "n"/"p", key values) or None for no token or a malformed one."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        direction, values = json.loads(raw)
        if direction not in ("n", "p") or not isinstance(values, list) or len(values) != width:
            return None
        return direction, [_decode_value(v) for v in values]
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


# --- Keyset ------------------------------------------------------------------------------------


def _after(keys: Sequence[Key], values: Sequence, flipped: bool):
    """The rows strictly after `values` in the order of `keys` (reversed when `flipped`)."""
    directions = [k.descending != flipped for k in keys]
    if not any(k.nullable for k in keys) and None not in values and len(set(directions)) == 1:
        # One direction, no NULLs: a row-value comparison, which PostgreSQL turns into an index seek.
        # The first column's bound is redundant, but lets an index on it seek when the key spans tables.
        columns, row = tuple_(*[k.column for k in keys]), tuple_(*values)
        if directions[0]:
            return and_(keys[0].column <= values[0], columns < row)
        return and_(keys[0].column >= values[0], columns > row)
    clauses = []
    for i, (key, value) in enumerate(zip(keys, values)):
        equal = [k.column.is_(None) if v is None else k.column == v for k, v in zip(keys[:i], values[:i])]
        descending = directions[i]
        nulls_last = not flipped  # NULLs last in the page order, so first when walking backwards
        if value is None:
            beyond = false() if nulls_last else key.column.is_not(None)
        else:
            beyond = key.column < value if descending else key.column > value
            if key.nullable and nulls_last:
                beyond = or_(beyond, key.column.is_(None))
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def _upto(keys: Sequence[Key], values: Sequence, flipped: bool):
    """The rows up to and including `values` in the order of `keys` (reversed when `flipped`)."""
    directions = [k.descending != flipped for k in keys]
    if not any(k.nullable for k in keys) and None not in values and len(set(directions)) == 1:
        columns, row = tuple_(*[k.column for k in keys]), tuple_(*values)
        if directions[0]:
            return and_(keys[0].column >= values[0], columns >= row)
        return and_(keys[0].column <= values[0], columns <= row)
    return ~_after(keys, values, flipped)


def _order(keys: Sequence[Key], flipped: bool) -> list:
    out = []
    for key in keys:
        descending = key.descending != flipped
        term = key.column.desc() if descending else key.column.asc()
        if key.nullable:
            term = term.nulls_first() if flipped else term.nulls_last()
        out.append(term)
    return out


MAX_WINDOW = 20_000


def _walk(session, ordered: Select, walk: Select, keys: Sequence[Key], after, flipped: bool, size: int) -> list:
    """The page's rows, sought among the next rows of `walk` by their unique last key, a window
    at a time (each four times the last) until the page is full or the walk ends."""
    rows, window, columns = [], max(10 * size, 200), [k.column for k in keys]
    while True:
        base = walk if after is None else walk.where(_after(keys, after, flipped))
        if window > MAX_WINDOW:  # sparse matches: let the database finish the walk in one query
            last = ordered if after is None else ordered.where(_after(keys, after, flipped))
            return rows + list(session.execute(last).all())
        walked = session.execute(
            base.with_only_columns(*columns).order_by(None).order_by(*_order(keys, flipped)).limit(window)
        ).all()
        if walked:
            rows += session.execute(ordered.where(keys[-1].column.in_([w[-1] for w in walked]))).all()
        if len(rows) > size or len(walked) < window:
            return rows[: size + 1]
        after, window = tuple(walked[-1]), window * 4


def page_size(size: int | None) -> int:
    """The list's own size, or the configured default (`PAGE_SIZE`)."""
    if size is not None:
        return size
    from flask import current_app

    return current_app.config.get("PAGE_SIZE", DEFAULT_SIZE)


def keyset(
    query: Select,
    keys: Sequence[Key],
    token: str | None,
    *,
    size: int | None = None,
    param: str = "page",
    session=None,
    walk: Select | None = None,
) -> Page:
    """One page of `query` in the order of `keys` (the last key must make the order unique).

    Items are what `query` selects: one entity (or column) per row, or a tuple per row when it
    selects several. `token` is the `Page.next`/`Page.prev` of the page the link was on.

    `walk` is for a filter the planner cannot see through (an EXISTS on another table): the
    same rows without that filter, on an index in the keys' order. The page is then sought
    among the next few hundred rows of the walk, by primary key (more rows if they hold too few
    matches), so its cost follows the page, not the table, whatever the planner estimates.
    """
    session = session or db.session
    size = page_size(size)
    width = len(query.column_descriptions)
    position = decode(token, len(keys))
    flipped = position is not None and position[0] == "p"
    seek = query
    if position is not None:
        seek = seek.where(_after(keys, position[1], flipped))
    labelled = [k.column.label(f"_page_key_{i}") for i, k in enumerate(keys)]
    ordered = seek.add_columns(*labelled).order_by(None).order_by(*_order(keys, flipped)).limit(size + 1)
    if walk is None:
        rows = list(session.execute(ordered).all())
    else:
        rows = _walk(session, ordered, walk, keys, position[1] if position else None, flipped, size)
    more = len(rows) > size
    rows = rows[:size]
    if flipped:
        rows.reverse()
        if not more:  # walked back to the start: show the first page whole
            return keyset(query, keys, None, size=size, param=param, session=session)
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
    page = Page(items=items, size=size, param=param)
    if not rows and position is not None:  # the rows past the link's position are gone: offer the way back
        page.prev = encode("p", position[1])
    elif rows:
        first, last = rows[0][width:], rows[-1][width:]
        if flipped:
            page.prev, page.next = encode("p", first), encode("n", last)
        else:
            page.prev = encode("p", first) if position is not None else None
            page.next = encode("n", last) if more else None
    return page


# --- Offset, for short lists ---------------------------------------------------------------------


def offset(query: Select, token: str | None, *, size: int | None = None, param: str = "page", session=None) -> Page:
    """Page `token` (1, 2, ...) of `query`, which must be ordered by a unique key."""
    session = session or db.session
    size = page_size(size)
    try:
        number = max(1, int(token or 1))
    except ValueError:
        number = 1
    width = len(query.column_descriptions)
    rows = list(session.execute(query.limit(size + 1).offset((number - 1) * size)).all())
    more = len(rows) > size
    items = [row[0] if width == 1 else tuple(row) for row in rows[:size]]
    return Page(
        items=items,
        size=size,
        param=param,
        next=str(number + 1) if more else None,
        prev=str(number - 1) if number > 1 else None,
    )
