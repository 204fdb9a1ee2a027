"""热门事项 by real use: the items most applied for in the last days, counted from the cases.

The count is one GROUP BY over the cases of the window (on the index of submission time),
kept for a few minutes in each process: a home page served hundreds of times a second asks the
database once per process per interval, and a stale figure for minutes harms no one.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from ..catalog.models import ServiceItem
from ..core import clock
from ..core.extensions import db
from .models import Case

WINDOW_DAYS = 90
KEEP_SECONDS = 300
_cache: dict = {}
_lock = threading.Lock()


def _counts(since) -> dict[str, int]:
    rows = db.session.execute(
        select(ServiceItem.code, func.count(Case.id))
        .select_from(Case)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .where(Case.submitted_at >= since)
        .group_by(ServiceItem.code)
    ).all()
    return {code: n for code, n in rows}


def counts() -> dict[str, int]:
    """Item code -> cases submitted in the last WINDOW_DAYS days."""
    key = db.engine.url.render_as_string()
    with _lock:
        kept = _cache.get(key)
        if kept and kept[0] > time.monotonic():
            return kept[1]
    found = _counts(clock.now() - timedelta(days=WINDOW_DAYS))
    with _lock:
        _cache[key] = (time.monotonic() + KEEP_SECONDS, found)
    return found


def forget() -> None:
    """Drop the kept counts (tests, and after loading data)."""
    with _lock:
        _cache.clear()


def popular(items: list[ServiceItem], limit: int = 6) -> list[ServiceItem]:
    """`items` most used first; unused ones keep their order after them."""
    used = counts()
    ranked = sorted(enumerate(items), key=lambda pair: (-used.get(pair[1].code, 0), pair[0]))
    return [item for _, item in ranked][:limit]
