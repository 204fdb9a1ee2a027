"""What a request does when a dependency does not answer: never a 500.

* **Redis down.** The verification paths already go without it (`redis_link`). The session
  store cannot: a request whose session cannot be read (or saved) answers 503 with a page in
  Chinese that says so, except the endpoints that never need a session (the public
  verification page, the partner API, the audit log's public URLs, health and metrics), which
  carry on as for a visitor without one. The store leaves a dead Redis alone for a few seconds
  after a failure and tries again by itself.
* **PostgreSQL connections dropped** (a restart, a failover, `pg_terminate_backend`). The pool
  pings a connection before lending it when it has been idle for `PING_AFTER_IDLE` or more
  (HikariCP's alive-bypass window: under load no request pays a round trip for a ping), which
  covers connections that died while idle; a connection that dies during a request (or within
  the window) is retried once when nothing of that request was committed yet (the whole request
  is run again on a fresh connection), and otherwise answers 503, so the person knows to try
  again (submissions carry an idempotency key).
* Anything else that only means "a dependency is down" (Redis, the Celery broker) answers 503.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from ..core.extensions import db
from ..core.signals import session_unsaved
from ..identity.sessions import StoreUnavailable
from .requestlog import request_id

log = logging.getLogger(__name__)

#: Endpoints that never read the session: they keep working, as for a visitor without one,
#: when the session store is down.
SESSION_FREE_ENDPOINTS = frozenset(
    {"static", "main.health", "certificates.verify", "certificates.jwks", "certificates.signing_roots"}
)
SESSION_FREE_BLUEPRINTS = frozenset({"partners", "audit", "ops"})
RETRY_AFTER = "5"
#: seconds a pooled connection may have been idle and still be lent without a ping
PING_AFTER_IDLE = 1.0


def session_free(endpoint: str | None) -> bool:
    if endpoint is None:
        return True  # a 404: the error page needs no session either
    return endpoint in SESSION_FREE_ENDPOINTS or endpoint.split(".", 1)[0] in SESSION_FREE_BLUEPRINTS


def unavailable(what: str):
    """The 503 page: `what` is "session" (Redis), "database" or "broker"."""
    messages = {
        "session": _("登录状态暂时无法读取（会话存储服务暂时不可用），您的登录和已提交的内容不会丢失。"),
        "database": _("数据库暂时无法连接，本次操作没有完成。"),
        "broker": _("后台任务服务暂时不可用，本次操作没有完成。"),
    }
    body = render_template("ops/unavailable.html", message=messages[what], request_id=request_id())
    return body, 503, {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}


def replace_with_unavailable(response, what: str) -> None:
    """Turn an already built response into the 503 page (the session could not be saved, so
    whatever the response promised, e.g. a sign-in redirect carrying state, would not work)."""
    body, status, headers = unavailable(what)
    response.status_code = status
    response.set_data(body)
    response.mimetype = "text/html"
    response.headers.pop("Location", None)
    response.headers.update(headers)


def _on_session_unsaved(app, response, **_kw) -> None:
    replace_with_unavailable(response, "session")


#: set in the WSGI environ by the session interface when the store did not answer
UNREADABLE_SESSION = "govservice.session_unreadable"


def refuse_unreadable_session(environ: dict):
    if environ.get(UNREADABLE_SESSION) and not session_free(request.endpoint):
        return unavailable("session")
    return None


# --------------------------------------------------------------------------- the database


def _idle_from(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """A connection idle for `PING_AFTER_IDLE` or more is pinged before it is lent; a dead one is
    replaced by the pool (DisconnectionError: it connects afresh, up to three times)."""
    since = record.info.pop("idle_since", None)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # lent with no transaction begun: its first statement may set one up
    except Exception as exc:
        raise sa_exc.DisconnectionError(f"a pooled connection did not answer: {exc}") from exc


def _count_commit(_session) -> None:
    try:
        g.commits = g.get("commits", 0) + 1
    except RuntimeError:  # outside a request (a job, a command)
        pass


def _disconnected(exc: Exception) -> bool:
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def _database_error(exc: sa_exc.SQLAlchemyError):
    """A dropped connection: run the request once more if it committed nothing; otherwise 503."""
    db.session.rollback()
    if _disconnected(exc) and not g.get("commits") and not g.get("retried_after_disconnect"):
        g.retried_after_disconnect = True
        log.warning(
            "database connection lost during %s %s; running the request again", request.method, request.endpoint
        )
        for upload in request.files.values():
            upload.stream.seek(0)
        try:
            app = current_app._get_current_object()
            answer = app.preprocess_request()
            return answer if answer is not None else app.dispatch_request()
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as again:
            db.session.rollback()
            exc = again
    log.error("database unavailable during %s %s: %s", request.method, request.endpoint, str(exc).splitlines()[0][:200])
    return unavailable("database")


def _redis_error(exc: Exception):
    db.session.rollback()
    log.error("Redis unavailable during %s %s: %s", request.method, request.endpoint, exc)
    return unavailable("session")


def _broker_error(exc: Exception):
    db.session.rollback()
    log.error("the Celery broker is unavailable during %s %s: %s", request.method, request.endpoint, exc)
    return unavailable("broker")


def configure(app: Flask) -> None:
    """Before the extensions are bound: the pool's pre-ping, the rate limiter's fallback."""
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_pre_ping", False)  # _ping_if_idle instead
    # Flask-Limiter: a Redis that does not answer counts in memory meanwhile, and returns to
    # Redis once it answers again; a short timeout, so a dead Redis costs little.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25})


def init_app(app: Flask) -> None:
    app.register_error_handler(sa_exc.OperationalError, _database_error)
    app.register_error_handler(sa_exc.InterfaceError, _database_error)
    import redis

    app.register_error_handler(redis.exceptions.ConnectionError, _redis_error)
    app.register_error_handler(redis.exceptions.TimeoutError, _redis_error)
    app.register_error_handler(StoreUnavailable, _redis_error)
    session_unsaved.connect(_on_session_unsaved, sender=app, weak=False)
    from kombu.exceptions import OperationalError as BrokerError

    app.register_error_handler(BrokerError, _broker_error)
    if not event.contains(Session, "after_commit", _count_commit):
        event.listen(Session, "after_commit", _count_commit)
    if not event.contains(Pool, "checkout", _ping_if_idle):
        event.listen(Pool, "checkin", _idle_from)
        event.listen(Pool, "checkout", _ping_if_idle)
