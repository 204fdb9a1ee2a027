"""`/healthz` (in views.py) says the process is alive; `/readyz` says whether it can serve:
the database, Redis and the Celery broker each answer (those configured), naming the one that
does not. Both are for machines (the load balancer, the orchestrator), so they answer JSON."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from ..core.extensions import db

TIMEOUT = 1.0  # seconds per dependency: a probe must answer before the prober gives up


def _database() -> None:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def _redis() -> None:
    from ..core import redis_link

    link = redis_link.link()
    link.client.ping()  # not through link.call: its back-off would hide a recovery from the probe


def _broker() -> None:
    celery = current_app.extensions["celery"]
    with celery.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT)


def checks() -> dict:
    probes = {"database": _database}
    if current_app.config.get("REDIS_URL"):
        probes["redis"] = _redis
    if current_app.config.get("CELERY_BROKER_URL"):
        probes["broker"] = _broker
    answers = {}
    for name, probe in probes.items():
        started = time.perf_counter()
        try:
            probe()
            answers[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
        except Exception as exc:  # whatever the failure, the probe's job is to say so
            if name == "database":
                db.session.rollback()
            answers[name] = {
                "ok": False,
                "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__,
            }
    return answers


def readyz():
    answers = checks()
    down = [name for name, answer in answers.items() if not answer["ok"]]
    body = {"status": "unavailable" if down else "ready", "down": down, "checks": answers}
    return body, 503 if down else 200, {"Cache-Control": "no-store"}
