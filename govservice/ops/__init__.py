"""Operations: what a deployment needs around the domains.

`configure(app)` runs before the extensions are bound (the settings check, engine and
rate-limiter options); `init_app(app)` after (request ids and timing, JSON logs, fault handling,
`/readyz`, `/metrics`). The timers are the Celery beat schedule (celery_app.py), run once each by
`flask govservice tick`; backups are `flask govservice backup`.
"""

from __future__ import annotations

from flask import Flask, request

from . import faults, requestlog, settings


def configure(app: Flask) -> None:
    settings.check(app)
    faults.configure(app)


def _begin_request():
    """The first before_request hook (one, for both: each hook costs a call per request):
    the request's start time, and the 503 for a session the store could not read."""
    environ = request.environ
    requestlog.start(environ)
    return faults.refuse_unreadable_session(environ)


def init_app(app: Flask) -> None:
    from ..core.extensions import csrf, limiter
    from . import hotpath, metrics
    from .views import bp

    faults.init_app(app)
    requestlog.init_app(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_request)
    metrics.init_app(app)
    app.register_blueprint(bp)
    csrf.exempt(bp)
    limiter.exempt(bp)
    hotpath.init_app(app)
