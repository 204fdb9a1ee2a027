"""补正逾期: a supplement not supplied by its date, the application is deemed withdrawn
(视为撤回申请), the usual consequence in the licensing rules when the applicant lets the
一次性告知书's period pass without supplying. The timer (`cases.lapse_supplements` on the
Celery beat, or `flask govservice tick`) fires the `lapse` transition through the one engine:
the state, a case event, the audit entry and the applicant's notice (notify listens) in one
transaction. Running it twice does nothing more: a lapsed case is no longer waiting.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..core import clock
from ..core.extensions import db
from .engine import StaleCase, transition
from .models import Case, SupplementRequest

log = logging.getLogger(__name__)
BATCH = 200


def lapse_overdue_supplements() -> int:
    """Every case whose pending supplement request's date has passed (Beijing date); returns
    how many lapsed. A case answered or withdrawn meanwhile is left as it is."""
    today = clock.today()
    lapsed, after = 0, 0
    while True:
        rows = db.session.execute(
            select(SupplementRequest.id, SupplementRequest.due, Case.id, Case.version)
            .join(Case, Case.id == SupplementRequest.case_id)
            .where(
                SupplementRequest.answered_at.is_(None),
                SupplementRequest.due < today,
                SupplementRequest.id > after,
                Case.state == "supplement_requested",
            )
            .order_by(SupplementRequest.id)
            .limit(BATCH)
        ).all()
        db.session.rollback()  # no transaction held across the batch's transitions
        if not rows:
            return lapsed
        for request_id, due, case_id, version in rows:
            after = request_id
            try:
                transition(
                    case_id,
                    "lapse",
                    None,
                    version,
                    note=f"补正期限 {due.isoformat()} 已届满，申请人未补正，视为撤回申请",
                )
            except StaleCase:  # answered (or handled at the window) a moment ago
                db.session.rollback()
                continue
            lapsed += 1
