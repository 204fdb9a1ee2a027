"""An approved case whose issuance was never queued (the broker was down at the moment of the
approval) or whose task was lost gets its certificate from the timer
(`certificates.issue_pending` on the beat, or `flask govservice tick`): `issue_for_case` is
idempotent, so a case the regular task is about to serve is only completed once."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from .. import clock
from ..extensions import db
from . import services

log = logging.getLogger(__name__)
MIN_AGE = timedelta(minutes=2)  # the regular task's turn first
BATCH = 100


def issue_pending() -> int:
    """Issue (and complete) the approved cases older than MIN_AGE; returns how many."""
    from ..cases.models import Case
    cutoff = clock.now() - MIN_AGE
    ids = list(db.session.execute(
        select(Case.id).where(Case.state == "approved", or_(Case.decided_at.is_(None), Case.decided_at < cutoff))
        .order_by(Case.id).limit(BATCH)).scalars())
    db.session.rollback()
    for case_id in ids:
        log.warning("case %s was approved without its certificate being issued; issuing it now", case_id)
        services.issue_for_case(case_id)
    return len(ids)
