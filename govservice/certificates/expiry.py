"""到期提醒: a valid certificate 30 days (EXPIRY_NOTICE_DAYS) before it expires notifies its
holder, once. The timer (`certificates.notify_expiring` on the Celery beat, or `flask govservice
tick`) marks each certificate with one conditional UPDATE and sends `certificate_expiring` in the
same transaction, where notify writes the holder's notice: the mark and the notice commit
together, and of two timers running at once only one marks (and tells) each certificate.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..core import clock
from ..core.extensions import db
from ..core.signals import certificate_expiring, certificate_expiry_noticed
from .models import Certificate

BATCH = 200


def notify_expiring(days: int | None = None) -> int:
    """Tell the holder of every valid certificate expiring within `days` (not yet expired, not
    told before); returns how many were told."""
    days = current_app.config["EXPIRY_NOTICE_DAYS"] if days is None else days
    app = current_app._get_current_object()
    told, after = 0, 0
    while True:
        now = clock.now()
        batch = list(
            db.session.execute(
                select(Certificate)
                .where(
                    Certificate.expiry_notified_at.is_(None),
                    Certificate.status == "valid",
                    Certificate.expires_at.is_not(None),
                    Certificate.expires_at > now,
                    Certificate.expires_at <= now + timedelta(days=days),
                    Certificate.id > after,
                )
                .order_by(Certificate.id)
                .limit(BATCH)
            ).scalars()
        )
        if not batch:
            db.session.rollback()
            return told
        for certificate in batch:
            after = certificate.id
            marked = db.session.execute(
                update(Certificate)
                .where(Certificate.id == certificate.id, Certificate.expiry_notified_at.is_(None))
                .values(expiry_notified_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if marked:
                left = max(0, (certificate.expires_at - now).days)
                certificate_expiring.send(app, certificate=certificate, days_left=left)
                told += 1
        db.session.commit()
        certificate_expiry_noticed.send(app)
