"""Operations: what a deployment needs around the domains (issue 10).

`configure(app)` runs before the extensions are bound (the settings check, engine and
rate-limiter options); `init_app(app)` after (request ids and timing, JSON logs, fault handling,
`/readyz`, `/metrics`). The timers are the Celery beat schedule (celery_app.py), run once each by
`flask govservice tick`; backups are `flask govservice backup`.
"""
from __future__ import annotations

from flask import Flask

from . import settings  # noqa: F401  (create_app checks the secrets before anything is generated)


def configure(app: Flask) -> None:
    from . import faults, settings
    settings.check(app)
    faults.configure(app)


def init_app(app: Flask) -> None:
    from ..extensions import csrf, limiter
    from . import faults, metrics, requestlog
    from .views import bp
    faults.init_app(app)
    requestlog.init_app(app)  # after: its timer is the first hook of every request
    metrics.init_app(app)
    app.register_blueprint(bp)
    csrf.exempt(bp)
    limiter.exempt(bp)
