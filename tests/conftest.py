"""Fixtures: one migrated database and one live development identity provider per session;
a fresh app per test, built by the same factory as production, with every table put back to the
demo's base data after it.

The database is SQLite under a temporary instance folder, or PostgreSQL when DATABASE_URL
is set (CI runs the suite on both). The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from govservice import create_app
from govservice.app import migrate
from govservice.core.clock import FixedClock
from govservice.core.extensions import db
from govservice.identity.devidp import create_idp_app, serve_in_thread
from govservice.identity.devidp.chooser import choose
from govservice.identity.devidp.identities import IDENTITIES

SUBJECTS = {i["name"]: i["sub"] for i in IDENTITIES}


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
        # Sessions in a shared Redis: each test's own keys, so ids reused after the tables are emptied
        # never meet an earlier test's sessions.
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
        db.session.remove()
        _take_snapshot()
        db.engine.dispose()
    return True


@pytest.fixture
def app_config():
    """Extra settings for the `app` under test; a test module may override this fixture."""
    return {}


@pytest.fixture
def app(migrated, instance_dir, database_url, idp, app_config):
    app = create_app(_config(instance_dir, database_url, idp) | app_config)
    yield app
    with app.app_context():
        db.session.remove()
        _restore_snapshot()
        db.engine.dispose()


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
    """Pins the platform's time: Monday 2026-11-23 10:00 Beijing."""
    fixed = FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    app.extensions["clock"] = fixed
    return fixed


@pytest.fixture
def client(app):
    return app.test_client()


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
    return idp_login


def pdf_upload(name="premises.pdf"):
    """A small real PDF, as a browser would send it."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "lease agreement")
    page.save()
    return (io.BytesIO(buffer.getvalue()), name)
