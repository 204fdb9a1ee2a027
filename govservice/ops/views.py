"""`/readyz` and `/metrics`: for machines, no session, no CSRF, no rate limit."""

from flask import Blueprint

from . import health, metrics

bp = Blueprint("ops", __name__)
bp.add_url_rule("/readyz", "readyz", health.readyz)
bp.add_url_rule("/metrics", "metrics", metrics.metrics_view)
