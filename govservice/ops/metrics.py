"""Prometheus metrics at `/metrics`, correct under gunicorn's several worker processes.

Under gunicorn (gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before the app is imported) each
worker writes its counters and histograms to memory-mapped files in one folder and `/metrics`
adds them up (prometheus_client's multiprocess mode); without it, the process's own registry.
The gauges that describe shared state (queue depths, the audit sealer's lag) are read when
scraped, from Redis and the database, so any instance answers them for the whole deployment.

Metrics: request latency by endpoint (`govservice_http_request_duration_seconds`), case
transitions by action, verifications by channel and result (and refusals by reason, in
certificates/verification.py), queue depths, the sealer's lag.
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from ..core.signals import case_transitioned

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "govservice_http_request_duration_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CASE_TRANSITIONS = Counter("govservice_case_transitions_total", "Committed case transitions, by action", ["action"])

_children: dict = {}
_STATUS = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    key = (endpoint, method, status // 100)
    child = _children.get(key)
    if child is None:
        child = _children[key] = REQUEST_SECONDS.labels(endpoint, method, _STATUS.get(status // 100, "other"))
    child.observe(seconds)


def _on_transitioned(_app, case_id, action, **_kw) -> None:
    CASE_TRANSITIONS.labels(action).inc()


class SharedStateCollector:
    """Gauges read at scrape time (inside the /metrics request's app context)."""

    def collect(self):
        depth = GaugeMetricFamily("govservice_queue_depth", "Entries waiting in a queue", labels=["queue"])
        from ..certificates import verification

        pending = verification.pending()
        if pending is not None:
            depth.add_metric(["verifications"], pending)
        jobs = _celery_queue_depth()
        if jobs is not None:
            depth.add_metric(["celery"], jobs)
        yield depth
        from sqlalchemy.exc import SQLAlchemyError

        from ..audit import services as audit
        from ..core.extensions import db

        try:
            lag = audit.lag()
        except SQLAlchemyError as exc:  # the database down is /readyz's news; the rest still scrapes
            db.session.rollback()
            log.warning("could not read the audit sealer's lag: %s", str(exc).splitlines()[0][:200])
            return
        yield GaugeMetricFamily(
            "govservice_audit_unsealed_entries", "Audit entries committed and not yet sealed", value=lag.unsealed
        )
        yield GaugeMetricFamily(
            "govservice_audit_sealer_lag_seconds",
            "Age of the oldest audit entry not yet sealed (0: all sealed)",
            value=lag.seconds,
        )


def _celery_queue_depth() -> int | None:
    """Tasks waiting on the broker's default queue (a Redis list named after the queue)."""
    broker = current_app.config.get("CELERY_BROKER_URL") or ""
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = current_app.extensions.get("ops_broker_redis")
    if client is None:
        import redis

        client = current_app.extensions["ops_broker_redis"] = redis.Redis.from_url(
            broker, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    queue = current_app.extensions["celery"].conf.task_default_queue or "celery"
    import redis

    try:
        return int(client.llen(queue))
    except (redis.RedisError, OSError) as exc:  # a broker that is down is /readyz's news, not a failed scrape
        log.warning("could not read the depth of the Celery queue: %s", exc)
        return None


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector())
    return generate_latest(registry) + generate_latest(shared)


def metrics_view():
    token = current_app.config.get("METRICS_TOKEN")
    if token and request.headers.get("Authorization") != f"Bearer {token}":
        abort(401)
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    case_transitioned.connect(_on_transitioned, sender=app, weak=False)
