"""Celery tasks: thin wrappers around certificate services.

Issuance runs in the workers (inline, in the approving request, when CELERY_BROKER_URL is
unset). The task may run more than once for one case (a retry, a redelivery after a worker
died, a duplicate): ``services.issue_for_case`` is idempotent and the database's unique index
on a case's first certificate makes it so even for two runs at the same moment, so the task
is acknowledged late and retried freely.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.signals import worker_process_init
from flask import Flask

from ..core.extensions import db
from ..core.signals import case_transitioned
from . import issuance, services
from .issuance import TRANSIENT

log = logging.getLogger(__name__)

MAX_RETRIES = 5
INLINE_ATTEMPTS = 3
FRESH_CONNECTIONS = "govservice.certificates.fresh_connections"  # registered once per process


def init_app(app: Flask) -> None:
    """An approval queues its certificate's issuance (called by ``create_app`` after
    ``services.init_app``: the services do not import their own tasks)."""
    case_transitioned.connect(_on_case_transitioned, sender=app, weak=False)


def _backoff(retries: int) -> float:
    return min(60.0, 2.0**retries)


@shared_task(
    name="certificates.issue_for_case", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES
)
def issue_for_case_task(self, case_id: int) -> str | None:
    """Issue the certificate of an approved case; returns its identifier (None: nothing to issue)."""
    attempt = 0
    while True:
        try:
            certificate = services.issue_for_case(case_id)
            return certificate.identifier if certificate is not None else None
        except TRANSIENT as exc:
            db.session.rollback()
            if not self.request.is_eager:
                log.warning("issuing the certificate of case %s failed (%s); retrying", case_id, exc)
                raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
            # inline there is no broker to come back through: try again at once, a little later
            attempt += 1
            if attempt >= INLINE_ATTEMPTS:
                raise
            log.warning("issuing the certificate of case %s failed (%s); trying again", case_id, exc)
            time.sleep(0.05 * attempt)


def prepare_worker_process(app: Flask) -> None:
    """Call once in the worker's main process, before the pool forks (``govservice.app.worker``).

    The fonts, layouts, signing key and chain and token keys are already loaded by
    ``create_app``; this also renders and signs one throw-away certificate, so the lazily
    built parts (pyHanko's signature-size estimate, ReportLab's caches) are made once and
    shared by every forked child. A child must not share the parent's database connections.
    """
    with app.app_context():
        issuance.warm_up()
        db.engine.dispose()

    def fresh_connections(**_):
        with app.app_context():
            db.engine.dispose(close=False)

    worker_process_init.connect(fresh_connections, weak=False, dispatch_uid=FRESH_CONNECTIONS)


@shared_task(name="certificates.drain_verifications")
def drain_verifications_task() -> int:
    """The verification log's drainer on the beat (each web process drains too, every half
    second; several drainers take turns under one Redis lock)."""
    from . import verification

    return verification.flush()


@shared_task(name="certificates.retry_pending")
def retry_pending_task() -> int:
    """Approved cases whose certificate could not be signed (e.g. the TSA did not answer)."""
    return len(services.retry_pending())


@shared_task(name="certificates.notify_expiring")
def notify_expiring_task() -> int:
    """到期提醒: the holders of certificates expiring within EXPIRY_NOTICE_DAYS, each told once."""
    from . import expiry

    return expiry.notify_expiring()


def _on_case_transitioned(app, case_id, action, **_):
    if action == "approve":
        try:
            issue_for_case_task.delay(case_id)
        except TRANSIENT as exc:
            # inline (no broker) after its attempts: the approval stands, the case stays
            # approved with no certificate, and `retry_pending` issues it later (a worker with
            # a broker retries by itself)
            db.session.rollback()
            log.warning("the certificate of case %s is not issued yet (%s); it will be retried", case_id, exc)
        except Exception:  # the broker is down: the approval stands, and `retry_pending` issues it later
            log.exception("could not queue the certificate of case %s; the retry timer will issue it", case_id)
