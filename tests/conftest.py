"""Fixtures: one migrated database and one live development identity provider per session; one
app per session (per distinct `app_config`), built by the same factory as production; each test
inside a database transaction that is rolled back at its end.

The database is SQLite under a temporary instance folder, or PostgreSQL when DATABASE_URL
is set (CI runs the suite on both). The schema always comes from the Alembic migrations.

Isolation, the fast way (every test unless marked): the test's app runs on one connection
holding an outer transaction; the ORM session joins it with a SAVEPOINT
(`join_transaction_mode="create_savepoint"`, SQLAlchemy 2's "joining a session into an external
transaction"), so `db.session.commit()` in the code under test releases a savepoint and the
outer transaction is rolled back when the test ends. Code that opens connections of its own
(`db.engine.connect()` / `.begin()`: the database session store, the audit sealer, the working
calendar) gets the same connection, in a savepoint of its own, through `_JoinedEngine`.

Isolation, the slow way (`@pytest.mark.committed`, with the reason next to each use): tests whose
data must be committed, seen from other connections, threads or processes (live HTTP servers of
the app, races between connections, backups, migrations), run on real connections and commit;
every table is put back to the demo's base data after them (the snapshot restore).

Per-test state that lives outside the database is put back after every test: the app's config
and `app.extensions` (the `clock` fixture pins time there), the rate limiter, Redis keys under the
app's prefix, and the process-wide caches of govservice (`_reset_process_caches`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import socketserver
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import jinja2
import pytest
import werkzeug.serving
from flask import Flask, current_app, has_app_context
from sqlalchemy import Engine, event, inspect, make_url, text
from sqlalchemy.inspection import _inspects
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause

from govservice import create_app
from govservice.app import migrate
from govservice.core.clock import FixedClock
from govservice.core.extensions import db, limiter
from govservice.identity.devidp import create_idp_app, serve_in_thread
from govservice.identity.devidp.chooser import choose
from govservice.identity.devidp.identities import IDENTITIES

from .factories import pdf_upload  # noqa: F401  (tests import it from here too)

SUBJECTS = {i["name"]: i["sub"] for i in IDENTITIES}

# The live servers of the tests (the providers, registries, gateways, the other platform) run
# `serve_forever`, which looks for a shutdown request every `poll_interval` (0.5 s): each test that
# stopped one waited up to half a second for it. In the tests' process they look every 20 ms.
socketserver.BaseServer.serve_forever.__defaults__ = (0.02,)
werkzeug.serving.BaseWSGIServer.serve_forever.__defaults__ = (0.02,)


# --- parallel workers (pytest-xdist: `make unit` runs `-n 2`) ---------------------------------
# Each worker has its own of everything a test can leave behind: its temporary folders (so its
# own SQLite file and instance folder: xdist gives each worker a basetemp of its own), its own
# PostgreSQL database (the configured DATABASE_URL's name + "_gw0", "_gw1"..., made anew at the
# start and dropped at the end) and its own Redis database (the configured REDIS_URL's number
# + the worker's number). The environment is rewritten before any test module is imported, so
# the tests that read DATABASE_URL / REDIS_URL themselves see the worker's own.


def _worker_number() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... in an xdist worker
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


def _worker_redis_url(base: str, number: int) -> str:
    parts = urlsplit(base)
    first = int(parts.path.strip("/") or 0)
    if first + number > 15:
        raise pytest.UsageError(
            f"REDIS_URL={base}: worker gw{number} would use Redis database {first + number}; "
            "Redis has 16 (0-15): choose a lower database in REDIS_URL or fewer workers (-n)"
        )
    return urlunsplit(parts._replace(path=f"/{first + number}"))


def _postgres_admin(url):
    from sqlalchemy import create_engine

    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _recreate_database(url, *, create: bool = True) -> None:
    admin = _postgres_admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def pytest_configure(config):
    number = _worker_number()
    if number is None:
        return
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _worker_redis_url(os.environ["REDIS_URL"], number)
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgresql"):
        url = make_url(database)
        url = url.set(database=f"{url.database}_gw{number}")
        _recreate_database(url)
        os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
        config._worker_database = url


def pytest_unconfigure(config):
    url = getattr(config, "_worker_database", None)
    if url is not None:
        with contextlib.suppress(Exception):  # a database left behind is made anew by the next run
            _recreate_database(url, create=False)


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def database_url(instance_dir):
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir}/test.sqlite"


@pytest.fixture(scope="session")
def idp(instance_dir):
    """The development identity provider, live over HTTP on a free port."""
    server, thread = serve_in_thread(create_idp_app("http://127.0.0.1:0", instance_dir), "127.0.0.1", 0)
    issuer = f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server, thread = serve_in_thread(create_idp_app(issuer, instance_dir), "127.0.0.1", server.server_port)
    yield issuer
    server.shutdown()


def _config(instance_dir, database_url, idp):
    return {
        "TESTING": True,
        "INSTANCE_DIR": instance_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BLOB_DIR": f"{instance_dir}/blobs",
        "DEV_IDP_URL": idp,
        "PUBLIC_URL": "http://localhost",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Sessions and caches in a shared Redis: each app's own keys (removed after every test).
        "SESSION_KEY_PREFIX": f"govservice-test-{uuid.uuid4().hex}:",
        "SERVER_NAME": "localhost",
    }


@pytest.fixture(scope="session")
def migrated(instance_dir, database_url, idp):
    """Migrate once, load the demo's base data once, and keep a snapshot to restore after each test."""
    app = create_app(_config(instance_dir, database_url, idp))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade()
        from govservice.app import demo

        demo.load(certificates=False, channels=False)  # signing the demo certificates takes time: tests that want
        # them load them; the other channels' demo cases (issue 14) would be in every test's figures
        from govservice.audit import checkpoint

        # The instance's audit keys, as a deployed instance that has sealed its log has them (the
        # checks of the log read them and do not make them): no test depends on one that sealed first.
        checkpoint.keys(create=True)
        from govservice.calendar import workdays

        # The working calendar's table, as a deployment has it after its first day (`workdays.ensure`
        # fills it on first use): in the snapshot, not filled (10,000 rows) again in every test that counts days.
        workdays.refresh()
        db.session.commit()
        db.session.remove()
        _take_snapshot()
        db.engine.dispose()
    return True


@pytest.fixture
def app_config():
    """Extra settings for the `app` under test; a test module may override this fixture. Each
    distinct set of settings gets one app for the session (settings naming a test's tmp_path
    get one per test)."""
    return {}


# --- one app per configuration ---------------------------------------------------------------

_APPS: dict[str, Flask] = {}
_SAVED: dict[int, dict] = {}  # id(app) -> what is put back after each test


def _key(settings: dict) -> str:
    return repr(sorted((k, repr(v)) for k, v in settings.items() if k != "SESSION_KEY_PREFIX"))


def _app_for(settings: dict) -> Flask:
    key = _key(settings)
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(settings)
        _prepare(app)
    return app


class _SharedTemplates(jinja2.BytecodeCache):
    """The compiled templates, shared by the session's apps (all built by one `create_app`, so with
    the same Jinja settings): each template is compiled once per process, not once per app (the
    suite builds some seventy). Jinja checks each entry against the template's source."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedTemplates()


def _prepare(app: Flask) -> None:
    """Remember the freshly built app's state, to put it back after each test."""
    if app.jinja_env.bytecode_cache is None:
        app.jinja_env.bytecode_cache = _TEMPLATES
    try:
        config = copy.deepcopy(dict(app.config))
    except Exception:  # a setting that cannot be copied: a shallow copy, then
        config = dict(app.config)
    _SAVED[id(app)] = {
        "config": config,
        "extensions": dict(app.extensions),
        "limiter": dict(limiter.__dict__),
    }
    copy_ = app.extensions.get("mirror")
    if copy_ is not None and copy_.link.call(lambda r: r.ping()):
        copy_.wait_live()  # verifications answer from memory from the first test on, as deployed


def _restore(app: Flask) -> None:
    saved = _SAVED[id(app)]
    app.config.clear()
    app.config.update(copy.deepcopy(saved["config"]))
    app.extensions.clear()
    app.extensions.update(saved["extensions"])
    for name in ("redis_link", "session_store"):  # "Redis did not answer": forgotten, as by a new app
        found = app.extensions.get(name)
        if found is not None and hasattr(found, "_down_until"):
            found._down_until = 0.0
    if app.extensions.get("mirror") is not None:  # what it kept names rolled-back rows
        app.extensions["mirror"].forget()
    if app.extensions.get("verification_outbox") is not None:
        app.extensions["verification_outbox"].discard()
    oauth = app.extensions.get("authlib.integrations.flask_client")
    if oauth is not None:  # the providers' discovery documents and keys: fetched again, as by a new app
        for client in oauth._clients.values():
            client.server_metadata.clear()


def _bind(app: Flask) -> None:
    """The rate limiter and Celery's default app are bound to the last app built: bind them to this
    test's app, the limiter with empty counters (as a new app had)."""
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    limiter.__dict__.update(_SAVED[id(app)]["limiter"])
    if limiter.enabled and limiter._storage is not None:
        for storage in (limiter._storage, getattr(limiter, "_fallback_storage", None)):
            if storage is not None:
                with contextlib.suppress(Exception):  # a Redis a fault test stopped
                    storage.reset()


def _forget_redis_keys(app: Flask) -> None:
    link = app.extensions.get("redis_link")
    if link is None:
        return
    with contextlib.suppress(Exception):
        keys = list(link.client.scan_iter(match=f"{link.prefix}*", count=1000))
        if keys:
            link.client.delete(*keys)


def _reset_process_caches() -> None:
    """govservice's process-wide memories of database rows: forgotten after every test, since the
    rows they remember are rolled back (and on SQLite their ids are used again). Kept: the working
    calendar's days (`workdays._days`, a function of its arguments alone, the holidays entered among
    them: 0.2 s to compute, which every test reaching the calendar paid again) and the development
    registry's generated people (`backends._dev_tables`, a function of their number, frozen records)."""
    from govservice.cases import popular
    from govservice.catalog import search
    from govservice.catalog import services as catalog_services
    from govservice.certificates import services as certificate_services
    from govservice.certificates import shortref, verification
    from govservice.certificates import views as certificate_views
    from govservice.partners import tokencache

    tokencache._tokens.clear()
    verification._VERIFIED.clear()
    verification._memory_limiter = None
    shortref._ISSUERS.clear()
    certificate_services._PUBLIC_FACTS.clear()
    certificate_views._PAGES.clear()
    popular._cache.clear()
    search._vocabulary_at.cache_clear()
    catalog_services._english_names.cache_clear()


# --- the rolled-back transaction -------------------------------------------------------------


def _writes(statement) -> bool:
    if isinstance(statement, str):
        return not statement.lstrip().upper().startswith(("SELECT", "WITH", "PRAGMA"))
    if isinstance(statement, TextClause):
        return _writes(statement.text)
    return bool(getattr(statement, "is_dml", False))


class _Joined:
    """What `db.engine.connect()` answers during a test: the test's connection, each use in a
    savepoint of its own, so that its commit and rollback stay inside the test's transaction.
    What it committed is logged (`_JOINED["core_log"]`): in production it was committed on a
    connection of its own, so an ORM session that rolls back a savepoint begun before puts it back."""

    # Statements that would start or shape a transaction of its own; inside the test's one
    # connection and transaction they have nothing left to do.
    _IGNORED = ("BEGIN IMMEDIATE", "SET TRANSACTION")

    def __init__(self, connection):
        self._connection = connection
        self._savepoint = None
        self._pending = []

    def _ensure(self):
        if self._savepoint is None or not self._savepoint.is_active:
            self._savepoint = self._connection.begin_nested()
            self._pending = []

    def execute(self, statement, *args, **kwargs):
        self._ensure()
        if isinstance(statement, TextClause) and statement.text.lstrip().upper().startswith(self._IGNORED):
            return None
        result = self._connection.execute(statement, *args, **kwargs)
        if _writes(statement):
            self._pending.append(("execute", statement, args, kwargs))
        return result

    def exec_driver_sql(self, statement, *args, **kwargs):
        self._ensure()
        if statement.lstrip().upper().startswith(self._IGNORED):
            return None
        result = self._connection.exec_driver_sql(statement, *args, **kwargs)
        if _writes(statement):
            self._pending.append(("exec_driver_sql", statement, args, kwargs))
        return result

    def scalar(self, statement, *args, **kwargs):
        return self.execute(statement, *args, **kwargs).scalar()

    def scalars(self, statement, *args, **kwargs):
        return self.execute(statement, *args, **kwargs).scalars()

    @contextlib.contextmanager
    def begin(self):
        self._ensure()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin_nested(self):
        self._ensure()
        return self._connection.begin_nested()

    def in_transaction(self):
        return self._savepoint is not None and self._savepoint.is_active

    def commit(self):
        if self.in_transaction():
            self._savepoint.commit()
            _JOINED.setdefault("core_log", []).extend(self._pending)
        self._savepoint, self._pending = None, []

    def rollback(self):
        if self.in_transaction():
            self._savepoint.rollback()
        self._savepoint, self._pending = None, []

    def close(self):
        self.rollback()

    def __getattr__(self, name):  # dialect, engine, info, execution_options...
        return getattr(self._connection, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _replay(since: int) -> None:
    """Put back what the app's own connections committed since an ORM savepoint that was just
    rolled back began (each write in a savepoint: one that no longer applies is left out)."""
    connection = _JOINED.get("connection")
    for kind, statement, args, kwargs in _JOINED.get("core_log", [])[since:]:
        savepoint = connection.begin_nested()
        try:
            getattr(connection, kind)(statement, *args, **kwargs)
        except Exception:
            savepoint.rollback()
        else:
            savepoint.commit()


class _JoinedEngine:
    """The app's engine during a test: connections of one's own are the test's connection."""

    def __init__(self, engine, connection):
        self._engine = engine
        self._connection = connection

    def connect(self):
        _same_thread()
        return _Joined(self._connection)

    def begin(self):
        _same_thread()
        return _Joined(self._connection).begin()

    def __getattr__(self, name):  # url, dialect, dispose, pool...
        return getattr(self._engine, name)


@_inspects(_Joined)
def _inspect_joined(joined):
    return inspect(joined._connection)


@_inspects(_JoinedEngine)
def _inspect_joined_engine(engine):
    return inspect(engine._connection)


_JOINED: dict = {}  # while a test runs in a transaction: "connection", "thread"
_WROTE = "_test_wrote"
_CORE_MARK = "_test_core_mark"


def _joined_app() -> bool:
    """Whether the app at work is the test's (another app, e.g. a second platform served over HTTP,
    keeps its own engine and database)."""
    return has_app_context() and current_app._get_current_object() is _JOINED.get("app")


def _same_thread() -> None:
    """One connection serves the test: the app used from another thread (a live server, a race)
    would share it. Such a test needs its data committed: it is marked `committed`."""
    thread = _JOINED.get("thread")
    if thread is not None and thread != threading.get_ident():
        raise RuntimeError("the app's database is used from another thread: mark the test @pytest.mark.committed")


def _release_if_clean(session) -> None:
    """Before a close or a rollback, inside a test's transaction: an ORM session that wrote
    nothing it did not commit leaves its savepoint by releasing it, not rolling it back, since what
    the app's own connections wrote since the savepoint began (a saved web session at the end of a
    request, a sealed batch of the audit log) was committed in production."""
    connection = _JOINED.get("connection")
    transaction = session.get_transaction()
    if connection is None or transaction is None or session.info.get(_WROTE):
        return False
    if session.new or session.dirty or session.deleted:
        return False
    for conn, trans, _should_commit, _autoclose in set(transaction._connections.values()):
        if conn is connection and trans.is_active and trans is connection.get_nested_transaction():
            trans.commit()
            return True
    return False


def _joined_session_class(base):
    class JoinedSession(base):
        """Flask-SQLAlchemy's session, bound to the test's connection while one is set."""

        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            if bind is None and self.bind is not None and _joined_app():
                _same_thread()
                return self.bind
            return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

        def close(self):
            if self.bind is None or not _joined_app():
                return super().close()
            released = _release_if_clean(self)
            since, active = self.info.get(_CORE_MARK), self.in_transaction() and not released
            super().close()
            if active and since is not None:
                _replay(since)

        def rollback(self):
            if self.bind is None or not _joined_app() or self._nested_transaction is not None:
                return super().rollback()
            released = _release_if_clean(self)
            since, active = self.info.get(_CORE_MARK), self.in_transaction() and not released
            super().rollback()
            if active and since is not None:
                _replay(since)

    def wrote(session, *_args):
        session.info[_WROTE] = True

    def executed(state):
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[_WROTE] = True
        elif not state.is_select and not str(state.statement).lstrip().upper().startswith(("SELECT", "WITH")):
            state.session.info[_WROTE] = True

    def settled(session, *_args):
        session.info.pop(_WROTE, None)

    def began(session, transaction):
        if transaction.parent is None:  # the session's savepoint in the test's transaction
            session.info[_CORE_MARK] = len(_JOINED.get("core_log", []))

    event.listen(JoinedSession, "after_flush", wrote)
    event.listen(JoinedSession, "do_orm_execute", executed)
    event.listen(JoinedSession, "after_commit", settled)
    event.listen(JoinedSession, "after_rollback", settled)
    event.listen(JoinedSession, "after_transaction_create", began)
    return JoinedSession


@event.listens_for(Engine, "before_cursor_execute")
def _driver_statement(connection, cursor, statement, parameters, context, executemany) -> None:
    """A statement the app sent by the driver itself (`core.rows.fetch_one`: no ExecutionContext),
    which no ORM event saw: the session wrote, so its rollback rolls its savepoint back."""
    if context is None and _JOINED.get("connection") is not None and db.session.registry.has():
        db.session().info[_WROTE] = True


@event.listens_for(Engine, "engine_connect")
def _watch_other_engines(connection) -> None:
    """A connection to the test database from another engine (a second app built in the test)
    would commit for real, outside the test's transaction: the test is then failed at its end,
    to be marked `committed`."""
    joined = _JOINED.get("engine")
    if joined is not None and connection.engine is not joined and connection.engine.url == joined.url:
        _JOINED["other_engine"] = True


@contextlib.contextmanager
def _in_transaction(app: Flask):
    factory = db.session.session_factory
    if not getattr(factory.class_, "_joins_tests", False):
        factory.class_ = _joined_session_class(factory.class_)
        factory.class_._joins_tests = True
    with app.app_context():
        engine = db.engines[None]
        connection = engine.connect()
        connection._has_events = True  # listeners a test adds to the engine (statement counts) hear it
        outer = connection.begin()
        if connection.dialect.name == "sqlite":
            # pysqlite begins a transaction only before a write; a SAVEPOINT outside BEGIN would
            # itself be the outermost transaction, and its release would commit to the file.
            connection.exec_driver_sql("BEGIN")
    engines = db._app_engines[app]
    engines[None] = _JoinedEngine(engine, connection)
    factory.kw.update(bind=connection, join_transaction_mode="create_savepoint")
    _JOINED.update(connection=connection, thread=threading.get_ident(), app=app, engine=engine)
    try:
        yield
        if _JOINED.get("other_engine"):
            pytest.fail(
                "the test connected to the test database through another engine (another app?), which commits "
                "outside the rolled-back transaction: mark it @pytest.mark.committed",
                pytrace=False,
            )
    finally:
        _JOINED.clear()
        factory.kw.pop("bind", None)
        factory.kw.pop("join_transaction_mode", None)
        engines[None] = engine
        outer.rollback()
        connection.close()


def _restore_all_engines() -> None:
    for cached in _APPS.values():
        with cached.app_context():
            db.engine.dispose()


@pytest.fixture
def app(request, migrated, instance_dir, database_url, idp, app_config):
    settings = _config(instance_dir, database_url, idp) | app_config
    fresh = request.node.get_closest_marker("fresh_app") is not None
    if fresh:
        app = create_app(settings)
        _prepare(app)
    else:
        app = _app_for(settings)
    _bind(app)
    try:
        if request.node.get_closest_marker("committed"):
            try:
                yield app
            finally:
                with app.app_context():
                    db.session.remove()
                    _restore_snapshot()
                _restore_all_engines()
        else:
            with _in_transaction(app):
                yield app
    finally:
        _forget_redis_keys(app)
        _restore(app)
        _reset_process_caches()
        if fresh:
            with app.app_context():
                db.engine.dispose()
            _SAVED.pop(id(app), None)


def _tables():
    return [t.name for t in db.metadata.sorted_tables]


def _sqlite_paths():
    path = db.engine.url.database
    return path, path + ".snapshot"


def _take_snapshot():
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()
        shutil.copyfile(*_sqlite_paths())
        return
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS test_snapshot CASCADE; CREATE SCHEMA test_snapshot"))
        for name in _tables():
            conn.execute(text(f'CREATE TABLE test_snapshot."{name}" AS TABLE public."{name}"'))


def _restore_snapshot():
    """Every table back to the demo base data, whatever the test did."""
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()
        path, snapshot = _sqlite_paths()
        shutil.copyfile(snapshot, path)
        return
    # DELETE, not TRUNCATE: on tables this small it is much faster (TRUNCATE makes new files).
    # Sequences are left to run on: new rows never collide with the snapshot's ids.
    tables = _tables()
    with db.engine.begin() as conn:
        for name in reversed(tables):
            conn.execute(text(f'DELETE FROM public."{name}"'))
        for name in tables:
            conn.execute(text(f'INSERT INTO public."{name}" SELECT * FROM test_snapshot."{name}"'))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def clock(app):
    """Pins the platform's time: Monday 2026-11-23 10:00 Beijing (undone after the test with the
    rest of `app.extensions`)."""
    fixed = FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    app.extensions["clock"] = fixed
    return fixed


@pytest.fixture
def client(app):
    return app.test_client()


# --- signing in ------------------------------------------------------------------------------


def idp_login(client, name: str, *, provider: str = "devidp"):
    """Sign `client` in as the demo identity `name`, through the live provider over HTTP."""
    start = client.get(f"/auth/login/{provider}")
    assert start.status_code == 302, start.data
    return idp_choose(client, start.headers["Location"], name)


def idp_choose(client, authorize: str, name: str):
    """At the provider's identity chooser (`authorize`, any development provider instance),
    click "以 <name> 登录" as a browser would, and bring the answer back to the platform."""
    return client.get(choose(authorize, name))


@pytest.fixture
def login():
    """Signing in through the live development provider (OIDC over HTTP): for the tests of
    signing in itself (tests/identity/) and the journeys; other view tests use `login_as`."""
    return idp_login


def sign_in_directly(app, client, who, *, level: int | None = None, provider: str = "devidp"):
    """Sign `client` in as `who` (a demo identity's name, or a Person) with the session the real
    sign-in creates (govservice.identity.views.callback and _signed_in): the person found or
    recorded from the claims the development provider releases (`services.sign_in`: the identity
    link, the audit entry), a new session id, Flask-Login's user, the level of assurance the
    provider's `acr` gives (the identity's ordinary one, or `level` if the identity can reach it),
    the staff flag (the shorter idle timeout), the provider. No ID token: signing out ends the
    session here without the provider's end-session page."""
    from flask import session as flask_session
    from flask_login import login_user

    from govservice.identity import services, sessions
    from govservice.identity.access import LEVEL_KEY
    from govservice.identity.devidp.identities import Directory, achieved_acr
    from govservice.identity.providers import providers

    # In the test's app context if it has one pushed (`ctx`), as the sign-in request would run in it:
    # Flask-Login's user of that context (`g`) is then the person signed in last, as after a real sign-in.
    here = has_app_context() and current_app._get_current_object() is app
    with contextlib.nullcontext() if here else app.app_context():
        chosen = providers()[provider]
        if isinstance(who, str):
            name = who
        else:
            name = who.name
        identity = next(i for i in IDENTITIES if i["name"] == name)
        wanted = chosen.acr_values_for(level) if level else None
        claims = Directory().claims(identity, chosen.scope, achieved_acr(identity, wanted))
        person = services.sign_in(chosen, claims)
        granted = chosen.level_of(claims.get(chosen.acr_claim))
        with app.test_request_context(environ_base=client.environ_base):  # the client's address and agent
            login_user(person)  # Flask-Login's keys, as it writes them for this client: copied below
            signed = {key: flask_session[key] for key in ("_user_id", "_fresh", "_id") if key in flask_session}
        with client.session_transaction() as stored:
            lang = stored.get("lang")
            stored.clear()
            sessions.regenerate(stored)
            if lang:
                stored["lang"] = lang
            stored.update(signed)
            stored[LEVEL_KEY] = granted
            stored[sessions.STAFF_FLAG] = person.is_staff
            stored["provider"], stored["id_token"] = provider, None
        person_id = person.id
    return person_id


@pytest.fixture
def login_as(app, client):
    """`login_as("张三")` signs the test's `client` in, `login_as(other_client, "赵敏")` another
    client; a Person does for the name. Directly, as the real sign-in leaves the session; `level=3`
    for a session that stepped up. Returns the person's id."""

    def login_as(*args, level: int | None = None, provider: str = "devidp"):
        on, who = args if len(args) == 2 else (client, args[0])
        return sign_in_directly(app, on, who, level=level, provider=provider)

    return login_as
