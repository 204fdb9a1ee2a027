"""Embedded (no Celery broker): a thread in the app process seals soon after a commit that
appended entries; the request only wakes it."""

from __future__ import annotations

import time

import pytest

from govservice.audit import services as audit
from govservice.audit.sealer import InlineSealer
from govservice.core.extensions import db

# The sealer is a thread of the app: it reads the entries on connections of its own, so they must be
# committed; and each test stops it for good, so each test has an app of its own.
pytestmark = [pytest.mark.committed, pytest.mark.fresh_app]


@pytest.fixture
def app_config():
    return {"AUDIT_SEALER": "thread", "AUDIT_SEAL_DELAY": 0.05, "AUDIT_SEAL_INTERVAL": 0.5}


@pytest.fixture
def inline(app):
    sealer = app.extensions["audit_sealer"]
    assert isinstance(sealer, InlineSealer)
    yield sealer
    sealer.stop()  # before the database is put back for the next test


def _wait_until_sealed(app, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            if audit.lag().unsealed == 0:
                return True
        time.sleep(0.05)
    return False


def test_a_commit_that_appended_wakes_the_sealer_and_the_request_does_not_wait(app, inline, client, login_as):
    login_as(client, "张三")  # a request: the thread starts with the first one
    started = time.monotonic()
    assert client.get("/window/").status_code == 403  # access.denied appended and committed
    assert time.monotonic() - started < 1.0
    assert _wait_until_sealed(app), "the inline sealer did not seal within 10 s"
    assert inline.last_error is None and inline.last_result is not None
    with app.app_context():
        assert audit.verify().ok


def test_entries_appended_outside_a_request_are_sealed_too(app, inline):
    with app.app_context():
        audit.record("test.cli", subject="test:cli")
        db.session.commit()  # wakes (and if needed starts) the thread
    assert _wait_until_sealed(app)


def test_stopping_with_a_final_seal(app, inline):
    inline.stop()  # no thread any more
    with app.app_context():
        audit.record("test.exit", subject="test:exit")
        db.session.commit()
        assert audit.lag().unsealed >= 1
    inline._halt(True, 5)  # what atexit does: seal what is left
    with app.app_context():
        assert audit.lag().unsealed == 0
