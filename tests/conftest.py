"""Fixtures: one migrated database and one live development identity provider per session;
a fresh app per test, built by the same factory as production, with every table emptied after.

The database is SQLite under a temporary instance folder, or PostgreSQL when DATABASE_URL
is set (CI runs the suite on both). The schema always comes from the Alembic migrations.
"""
from __future__ import annotations

import html
import io
import os
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from sqlalchemy import text

from govservice import create_app, migrate
from govservice.clock import FixedClock
from govservice.extensions import db
from govservice.identity.devidp import create_idp_app, serve_in_thread
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
        "SERVER_NAME": "localhost",
    }


@pytest.fixture(scope="session")
def migrated(instance_dir, database_url, idp):
    app = create_app(_config(instance_dir, database_url, idp))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade()
        db.engine.dispose()
    return True


@pytest.fixture
def app(migrated, instance_dir, database_url, idp):
    app = create_app(_config(instance_dir, database_url, idp))
    with app.app_context():
        from govservice import demo
        demo.load()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
        conn.execute(text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def clock(app):
    """Pins the platform's time: Monday 2026-11-23 10:00 Beijing."""
    fixed = FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    app.extensions["clock"] = fixed
    return fixed


@pytest.fixture
def client(app):
    return app.test_client()


def idp_login(client, name: str, *, provider: str = "devidp"):
    """Sign `client` in as the demo identity `name`, through the live provider over HTTP."""
    start = client.get(f"/auth/login/{provider}")
    assert start.status_code == 302, start.data
    authorize = start.headers["Location"]
    page = requests.get(authorize, timeout=10)
    page.raise_for_status()
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', page.text, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    fields["identity"] = SUBJECTS[name]
    answer = requests.post(urljoin(authorize, html.unescape(form.group(1))), data=fields,
                           allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


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
