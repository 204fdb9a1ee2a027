"""Faults for real (issue 10, point 5): Redis going away behind a TCP proxy and coming back, and
PostgreSQL dropping the app's connections (pg_terminate_backend). Never a 500."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from govservice.core import redis_link
from govservice.core.extensions import db
from govservice.identity import sessions

from ..factories import bearer, call, issue, register_partner
from ..ports import free_port
from .proxy import TcpProxy

PROXY_PORT = free_port()  # the proxy's: free, so that parallel workers and other runs on the machine do not meet
REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="Redis faults need Redis (the PostgreSQL + Redis run)")
needs_postgresql = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"),
    reason="dropped connections are a PostgreSQL fault (the PostgreSQL + Redis run)",
)


@pytest.fixture
def redis_proxy():
    upstream = urlsplit(REDIS_URL)
    proxy = TcpProxy(PROXY_PORT, (upstream.hostname, upstream.port or 6379)).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def app_config():
    if not REDIS_URL:
        return {}
    # The app's Redis is the proxy (same database number); the rate limiter is on, as deployed.
    return {
        "REDIS_URL": f"redis://127.0.0.1:{PROXY_PORT}{urlsplit(REDIS_URL).path}",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{PROXY_PORT}",
    }


@pytest.fixture
def no_backoff(monkeypatch):
    """Try Redis again at once after a failure (deployed: after 5 s), so the test needs no sleep."""
    monkeypatch.setattr(sessions, "REDIS_BACKOFF", 0.0)
    monkeypatch.setattr(redis_link, "BACKOFF", 0.0)


@needs_redis
def test_redis_down_public_paths_work_signed_in_pages_say_503_and_it_recovers(
    app, client, login_as, clock, redis_proxy, no_backoff
):
    with app.app_context():
        certificate = issue()
        token = certificate.token
        partner, secret = register_partner()
        client_id = partner.client_id
    api = app.test_client()
    access = bearer(api, client_id, secret)
    login_as(client, "张三")
    assert client.get("/cases").status_code == 200

    redis_proxy.stop()
    page = client.get("/cases")
    assert page.status_code == 503 and page.headers["Retry-After"]
    text_ = page.get_data(as_text=True)
    assert "服务暂时不可用" in text_ and "登录状态暂时无法读取" in text_ and "请求编号" in text_
    assert client.get("/notices/").status_code == 503
    visitor = app.test_client()  # signed out: everything public works
    assert visitor.get("/").status_code == 200
    assert visitor.get("/items/").status_code == 200
    verify_page = client.get(f"/v/{token}")  # the QR page, even with the unreadable session
    assert verify_page.status_code == 200 and "有效" in verify_page.get_data(as_text=True)
    answer = call(api, access, "/api/v1/certificates/verify", {"token": token, "purpose": "核验营业执照"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "valid"
    assert bearer(app.test_client(), client_id, secret)  # /oauth/token: the limiter counts in memory
    start = visitor.get("/auth/login/devidp")  # signing in needs the store: said so, not a 500
    assert start.status_code == 503 and "Location" not in start.headers
    ready = visitor.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["down"] == ["redis"]
    assert visitor.get("/healthz").status_code == 200

    redis_proxy.start()  # back: the same session again, by itself
    assert client.get("/cases").status_code == 200
    assert visitor.get("/readyz").status_code == 200
    with app.app_context():
        from govservice.certificates import verification

        verification.flush()
        from govservice.certificates.models import Verification

        assert db.session.execute(db.select(db.func.count(Verification.id))).scalar_one() == 2  # both logged


def _terminate_backends(exclude_own: bool = True) -> int:
    admin = create_engine(DATABASE_URL)
    with admin.begin() as conn:
        n = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    return n


@needs_postgresql
# Committed: the database's server drops the app's connections here (pg_terminate_backend), which would
# end the test's own transaction; and the test adds a route to its app, so the app is its own.
@pytest.mark.committed
@pytest.mark.fresh_app
def test_connections_dropped_while_idle_are_replaced_before_use(app, client, clock, monkeypatch, caplog):
    from govservice.ops import faults

    assert client.get("/items/").status_code == 200  # the pool holds a connection now
    assert _terminate_backends() >= 1
    monkeypatch.setattr(faults, "PING_AFTER_IDLE", 0.0)  # idle long enough: pinged before it is lent
    assert client.get("/items/").status_code == 200  # a fresh one, no error
    assert "running the request again" not in caplog.text  # replaced before use, not after a failure

    assert _terminate_backends() >= 1
    monkeypatch.setattr(faults, "PING_AFTER_IDLE", 60.0)  # used a moment ago: lent without a ping
    assert client.get("/items/").status_code == 200  # its first statement fails: run again, no error
    assert "running the request again" in caplog.text


@needs_postgresql
# Committed: it checks connections out of the app's pool, outside the test's transaction.
@pytest.mark.committed
def test_a_pinged_connection_is_lent_with_no_transaction_begun(app, monkeypatch):
    """audit verify's snapshot sets its isolation as its first statement: the ping may not begin one."""
    from govservice.ops import faults

    monkeypatch.setattr(faults, "PING_AFTER_IDLE", 0.0)  # every checkout after the first pings
    with app.app_context():
        for _ in range(2):
            with db.engine.connect() as conn:
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                assert conn.execute(text("SHOW transaction_isolation")).scalar() == "repeatable read"


@needs_postgresql
# Committed: the database's server drops the app's connections here (pg_terminate_backend), which would
# end the test's own transaction; and the test adds a route to its app, so the app is its own.
@pytest.mark.committed
@pytest.mark.fresh_app
def test_a_connection_dropped_during_a_request_is_retried_once(app, clock):
    runs = []

    @app.get("/test-drop")
    def drop():
        db.session.execute(text("SELECT 1"))
        runs.append(1)
        if len(runs) == 1:  # the server goes away in the middle of the first run
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
            admin = create_engine(DATABASE_URL)
            with admin.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
        return {"answer": db.session.execute(text("SELECT 42")).scalar()}

    answer = app.test_client().get("/test-drop")
    assert answer.status_code == 200 and answer.get_json() == {"answer": 42} and len(runs) == 2


@needs_postgresql
# Committed: the database's server drops the app's connection here (pg_terminate_backend), which would
# end the test's own transaction.
@pytest.mark.committed
def test_a_statement_the_driver_sends_reports_a_lost_connection_as_sqlalchemy_would(app):
    """core.rows.fetch_one (a submission's INSERT and its number) bypasses SQLAlchemy's execution:
    a connection lost under it still comes as an OperationalError with the connection invalidated
    (what ops.faults runs a request again on), and the next transaction gets a working one."""
    from sqlalchemy import exc as sa_exc

    from govservice.core import rows

    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(DATABASE_URL)
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with pytest.raises(sa_exc.OperationalError) as lost:
            rows.fetch_one("SELECT %s::int", [1])
        assert lost.value.connection_invalidated
        db.session.rollback()
        assert rows.fetch_one("SELECT %s::int", [42]) == (42,)
        db.session.rollback()


@needs_postgresql
# Committed: the database's server drops the app's connections here (pg_terminate_backend), which would
# end the test's own transaction; and the test adds a route to its app, so the app is its own.
@pytest.mark.committed
@pytest.mark.fresh_app
def test_a_request_that_committed_before_losing_its_connection_answers_503_not_500(app, clock):
    runs = []

    @app.post("/test-drop-after-commit")
    def drop_after_commit():
        runs.append(1)
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(DATABASE_URL)
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        db.session.execute(text("SELECT 1"))
        return "never"

    answer = app.test_client().post("/test-drop-after-commit")
    assert answer.status_code == 503 and "数据库暂时无法连接" in answer.get_data(as_text=True)
    assert len(runs) == 1  # never run twice once it had committed


def test_a_database_that_does_not_answer_is_503_and_readyz_names_it(app, clock):
    from govservice import create_app

    config = dict(
        app.config,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:18152/nothing",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    down = create_app(config).test_client()  # nothing listens on that port
    page = down.get("/items/")
    assert page.status_code == 503 and "数据库暂时无法连接" in page.get_data(as_text=True)
    ready = down.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["down"]
    assert down.get("/healthz").status_code == 200  # alive all the same: liveness is not readiness


class TestBrokerDown:
    """The Celery broker does not answer when an officer approves: the approval stands (no 500,
    no false "not done"), and the timer issues the certificate afterwards, once."""

    @pytest.fixture
    def app_config(self):
        return {"CELERY_BROKER_URL": "redis://127.0.0.1:18157/0"}  # nothing listens there

    def test_the_approval_stands_and_the_timer_issues_the_certificate(self, app, ctx, client, login_as, clock):
        from govservice.cases.models import Case
        from govservice.certificates import services
        from govservice.certificates.models import Certificate

        from ..factories import in_review_case

        celery = app.extensions["celery"]
        celery.conf.task_always_eager = True  # the case gets there while the broker answers ...
        case = in_review_case()
        celery.conf.task_always_eager = False  # ... and it stops answering before the approval
        login_as(client, "刘洋")
        step = case.steps[0].id
        answer = client.post(
            f"/review/cases/{case.number}/decide",
            data={"version": case.version, "step": step, "decision": "approve", "opinion": "准予登记"},
        )
        assert answer.status_code == 302
        db.session.expire_all()
        assert db.session.get(Case, case.id).state == "approved"
        assert services.retry_pending() == []  # the regular task gets its turn first
        clock.advance(minutes=3)
        assert services.retry_pending() == [case.id]
        assert db.session.get(Case, case.id).state == "completed"
        assert (
            db.session.execute(
                db.select(db.func.count(Certificate.id)).where(Certificate.case_id == case.id)
            ).scalar_one()
            == 1
        )
        assert services.retry_pending() == []
