"""Verification on the hot path: the status snapshot and its invalidation across instances, the
queued log (exactly once), forgeries that cost no database work, and Redis down."""

import json
import os
import time

import pytest
from sqlalchemy import event

from govservice import create_app
from govservice.audit.models import AuditEntry
from govservice.certificates import lifecycle, outbox, tokens, verification
from govservice.certificates.models import Verification
from govservice.core.extensions import db

from ..factories import issue, person, verifications_audited

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="the snapshot cache and the queue live in Redis (the PostgreSQL + Redis run)",
)


def _count(model):
    return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


@needs_redis
@pytest.mark.committed  # the other instance is an app of its own, on its own engine: it reads committed rows
def test_a_revocation_through_one_instance_shows_at_once_on_another(app, ctx, clock):
    certificate = issue()
    token, identifier = certificate.token, certificate.identifier
    other = create_app(dict(app.config))  # a second instance: same database, same Redis
    assert other.extensions["mirror"].wait_live()
    with other.test_request_context():
        for _ in range(2):  # the second answer comes from the other instance's memory
            assert verification.verify_token(token, channel="page", verifier="t")[0] == "valid"
        assert other.extensions["mirror"].get(verification._keys(identifier)[1]) is not None
    lifecycle.revoke(certificate.id, person("刘洋"), "以欺骗手段取得登记")
    revoked_at = time.monotonic()
    with other.test_request_context():
        # the other instance hears of it by pub/sub: within milliseconds, not at its next Redis read
        # (the bound below is for a loaded CI machine)
        while (status := verification.verify_token(token, channel="page", verifier="t")[0]) == "valid":
            assert time.monotonic() - revoked_at < 5.0, "the revocation did not reach the other instance"
        assert status == "revoked"
        db.session.remove()


@needs_redis
def test_a_snapshot_read_just_before_a_revocation_never_hides_it(ctx, clock, monkeypatch):
    """The reader loads the row, the revocation commits, then the reader caches what it loaded:
    that copy is filed under the old generation and never served."""
    certificate = issue()
    read = verification._snapshot_from_db

    def read_then_revoke(identifier):
        found = read(identifier)
        monkeypatch.setattr(verification, "_snapshot_from_db", read)
        lifecycle.revoke(certificate.id, person("刘洋"), "吊销")
        return found

    monkeypatch.setattr(verification, "_snapshot_from_db", read_then_revoke)
    assert verification.snapshot(certificate.identifier).recorded_status == "valid"  # what it read
    assert verification.snapshot(certificate.identifier).status == "revoked"
    assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "revoked"


@needs_redis
def test_queued_verifications_land_once_even_when_a_drainer_died_before_trimming(ctx, clock, monkeypatch):
    certificate = issue()
    for _ in range(3):
        assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "valid"
    assert verification.pending() == 3 and _count(Verification) == 0
    outbox.outbox().push()  # what the outbox thread does every OUTBOX_INTERVAL
    link = ctx.extensions["redis_link"]
    queued = [json.loads(e) for e in link.client.lrange(verification._queue(), 0, -1)]
    verification._insert(queued)  # a drainer that committed, then died before trimming the queue
    db.session.commit()
    assert verification.flush() == 3  # the next one drains the same entries ...
    assert _count(Verification) == 3  # ... and they are there once, vouched for once
    assert verifications_audited() == 3
    entry = db.session.execute(
        db.select(AuditEntry).where(AuditEntry.action == "certificate.verifications")
    ).scalar_one()
    rows = db.session.execute(db.select(Verification)).scalars().all()
    assert entry.detail["sha256"] == verification.batch_digest(rows)
    assert verification.pending() == 0


@pytest.mark.parametrize(
    "verifier, purpose, client_id, client",
    [
        ("公开核验页面", None, None, None),
        ('住建委 "租赁" 系统\\', "核验\n营业执照\t\u2028", 7, "p-1f"),
        ("</script>", "x" * 255, 0, ""),
    ],
)
def test_an_entry_line_is_the_json_of_the_entry(verifier, purpose, client_id, client):
    entry = {
        "uid": "2b1d3c0e0bbc6ea50b5a000000000009",
        "at": 1764637045.899218,
        "channel": "api",
        "verifier": verifier,
        "purpose": purpose,
        "client_id": client_id,
        "client": client,
        "certificate_id": 12,
        "result": "revoked",
    }
    for _ in range(2):  # encoded, then with the members kept
        line = verification._entry_line(entry)
        assert json.loads(line) == entry and "\n" not in line


@needs_redis
def test_an_entry_queued_twice_in_one_batch_lands_once_and_its_digest_matches_the_rows(ctx, clock):
    certificate = issue()
    for _ in range(2):
        verification.verify_token(certificate.token, channel="page", verifier="t")
    outbox.outbox().push()
    link = ctx.extensions["redis_link"]
    queued = link.client.lrange(verification._queue(), 0, -1)
    link.client.rpush(verification._queue(), *queued)  # a spool replayed after it was pushed
    assert verification.flush() == 4
    rows = db.session.execute(db.select(Verification)).scalars().all()
    assert len(rows) == 2
    entry = db.session.execute(
        db.select(AuditEntry).where(AuditEntry.action == "certificate.verifications")
    ).scalar_one()
    assert entry.detail == {"count": 2, "sha256": verification.batch_digest(rows)}


@needs_redis
def test_the_holder_sees_queued_verifications_in_the_wallet(app, ctx, clock, login_as):
    certificate = issue()
    verification.verify_token(certificate.token, channel="page", verifier="公开核验页面")
    client = app.test_client()
    login_as(client, "张三")
    page = client.get("/wallet").get_data(as_text=True)
    assert "公开核验页面" in page and verification.pending() == 0


def test_a_forged_token_costs_no_database_work_and_writes_nothing(ctx, clock):
    genuine = issue()
    header, payload, signature = genuine.token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for _ in range(5):
            assert verification.verify_token(forged, channel="page", verifier="t") == ("forged", None)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == []
    verification.flush()
    assert _count(Verification) == 0


class TestRedisDown:
    """Redis configured but not answering: the public page and the log go on without it."""

    @pytest.fixture
    def app_config(self):
        return {"REDIS_URL": "redis://127.0.0.1:1/0"}

    def test_the_page_answers_and_the_check_is_logged_directly(self, app, ctx, clock):
        certificate = issue()
        page = app.test_client().get(f"/v/{certificate.token}")
        assert page.status_code == 200 and "核验结果：有效" in page.get_data(as_text=True)
        lifecycle.revoke(certificate.id, person("刘洋"), "吊销")
        page = app.test_client().get(f"/v/{certificate.token}")
        assert "核验结果：已吊销" in page.get_data(as_text=True)
        assert db.session.execute(db.select(Verification.result).order_by(Verification.id)).scalars().all() == [
            "valid",
            "revoked",
        ]


@needs_redis
def test_a_reader_waits_for_what_was_queued_before_it_not_for_a_queue_that_keeps_filling(ctx, clock, monkeypatch):
    """Under load the queue never empties; the wallet's flush() still returns once the entries
    queued before it are in the log."""
    certificate = issue()
    for _ in range(2):
        verification.verify_token(certificate.token, channel="page", verifier="t")
    real_insert = verification._insert

    def insert_while_more_arrive(entries):
        real_insert(entries)
        verification.verify_token(certificate.token, channel="page", verifier="t")  # another visitor meanwhile

    monkeypatch.setattr(verification, "_insert", insert_while_more_arrive)
    monkeypatch.setattr(verification, "DRAIN_BATCH", 1)
    assert verification.flush() == 2  # the two queued before the call, then it stops
    assert _count(Verification) == 2 and verification.pending() >= 1


class TestPageRateLimit:
    """VERIFY_PAGE_RATE_LIMIT per address, counted in the verification's own round trip (Redis)
    or in the process (without Redis); forged tokens count as much as genuine ones."""

    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "VERIFY_PAGE_RATE_LIMIT": "3/minute"}

    def test_the_fourth_check_in_a_minute_is_refused_with_retry_after(self, app, ctx, clock):
        certificate = issue()
        header, payload, signature = certificate.token.split(".")
        forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
        visitor = app.test_client()
        codes = [visitor.get(f"/v/{t}").status_code for t in (certificate.token, forged, certificate.token)]
        assert codes == [200, 404, 200]
        refused = visitor.get(f"/v/{certificate.token}")
        assert refused.status_code == 429 and "操作过于频繁" in refused.get_data(as_text=True)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        other = app.test_client().get(f"/v/{certificate.token}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200  # another address has its own allowance
        verification.flush()
        assert _count(Verification) == 3  # the refused check was not logged as a verification


def test_a_token_seen_before_skips_the_signature_check_until_its_key_is_withdrawn(app, ctx, clock, monkeypatch):
    certificate = issue()
    store = app.extensions["token_keys"]
    checks = []
    real_verify = store.verify
    monkeypatch.setattr(store, "verify", lambda token: checks.append(token) or real_verify(token))
    for _ in range(3):
        assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "valid"
    assert len(checks) == 1  # the ECDSA check ran once; the same bytes verified the same way since
    altered = certificate.token[:-1] + ("A" if certificate.token[-1] != "A" else "B")
    assert verification.verify_token(altered, channel="page", verifier="t") == ("forged", None)
    kid = tokens.unverified_header(certificate.token)["kid"]
    for path in os.scandir(store.directory):
        if path.name.endswith(".json") and kid in open(path.path, encoding="utf-8").read():
            os.remove(path.path)
    monkeypatch.setattr(store, "RECHECK_SECONDS", 0)
    assert verification.verify_token(certificate.token, channel="page", verifier="t") == ("forged", None)
