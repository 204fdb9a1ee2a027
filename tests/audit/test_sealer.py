"""Appending is a plain INSERT that waits for nobody; the sealer turns committed entries into one
consistent tree, batch by batch, one sealer at a time, all or nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select, text

from govservice.audit import checkpoint as cp
from govservice.audit import sealer
from govservice.audit import services as audit
from govservice.audit.models import AuditCheckpoint, AuditEntry, AuditTreeNode
from govservice.core.extensions import db

from ..factories import append, run_together
from .helpers import postgres_only, sql

THREADS = 8


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": THREADS + 5}}


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _leaf_indexes() -> list[int]:
    return list(
        db.session.execute(
            select(AuditEntry.leaf_index).where(AuditEntry.leaf_index.is_not(None)).order_by(AuditEntry.leaf_index)
        ).scalars()
    )


# Committed: it counts every statement the append sends; the rolled-back test transaction would add its
# own SAVEPOINT statements around the commit.
@pytest.mark.committed
def test_appending_is_one_insert_and_reads_or_locks_nothing(ctx):
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        entry = audit.record(
            "test.append", actor=None, subject="test:1", case_id=None, purpose="why", detail={"k": "v"}
        )
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES")
    assert "FOR UPDATE" not in statements[0].upper()
    assert entry.id and entry.leaf_index is None and not entry.sealed


def test_the_audit_head_is_gone(ctx):
    from sqlalchemy import inspect

    assert "audit_head" not in inspect(db.engine).get_table_names()
    import govservice.audit.models as models

    assert not hasattr(models, "AuditHead")


@postgres_only
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_an_uncommitted_append_does_not_block_another_appender_nor_the_sealer(app):
    """Two connections: one holds an appended entry in an open transaction; the other appends and
    commits at once (with a lock timeout, so waiting would fail rather than hang). The sealer seals
    the committed one and leaves the late one for the next batch."""
    held, release, done = threading.Event(), threading.Event(), {}

    def holder():
        with app.app_context():
            entry = audit.record("test.held", subject="test:held")
            db.session.flush()  # the INSERT is sent; the transaction stays open
            done["held"] = entry.id
            held.set()
            release.wait(30)
            db.session.commit()
            db.session.remove()

    def appender():
        with app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            started = time.monotonic()
            free = audit.record("test.free", subject="test:free")
            db.session.flush()
            done["free"] = free.id
            db.session.commit()
            done["seconds"] = time.monotonic() - started
            db.session.remove()

    first = threading.Thread(target=holder)
    first.start()
    try:
        assert held.wait(10)
        second = threading.Thread(target=appender)
        second.start()
        second.join(timeout=5)
        assert not second.is_alive(), "the second appender waited for the first one's transaction"
        assert done["seconds"] < 1.0 and done["free"] > done["held"]
        with app.app_context():
            result = sealer.seal()
            assert result.sealed >= 1
            free, late = (db.session.get(AuditEntry, done[k]) for k in ("free", "held"))
            assert free.sealed and late is None  # not committed yet: invisible, not sealed
    finally:
        release.set()
        first.join(timeout=10)
    with app.app_context():
        next_batch = sealer.seal()
        late = db.session.get(AuditEntry, done["held"])
        free = db.session.get(AuditEntry, done["free"])
        assert next_batch.sealed == 1 and late.leaf_index == free.leaf_index + 1  # the next batch, the next leaf
        assert audit.verify().ok


@postgres_only
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_many_concurrent_appenders_then_one_seal_give_one_consistent_tree(app):
    per_thread = 25
    barrier = threading.Barrier(THREADS)
    errors, seconds = [], []

    def run(t):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                started = time.monotonic()
                for i in range(per_thread):
                    audit.record("test.concurrent", subject=f"test:{t}:{i}", detail={"thread": t, "i": i})
                    db.session.commit()
                seconds.append(time.monotonic() - started)
            except Exception as exc:  # a failure of the test
                errors.append(repr(exc))
            finally:
                db.session.remove()

    run_together(THREADS, run)
    assert not errors
    with app.app_context():
        assert _count(AuditEntry, AuditEntry.action == "test.concurrent") == THREADS * per_thread
        total = _count(AuditEntry)
        result = sealer.seal(batch=64)
        assert result.tree_size == total and result.checkpoints >= 1
        assert _leaf_indexes() == list(range(total))
        report = audit.verify(chunk=100)
        assert report.ok, report.problem
        assert report.entries == total and report.unsealed == 0


@postgres_only
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_appenders_and_a_sealer_running_together_end_in_one_tree(app):
    stop, errors = threading.Event(), []

    def appender(t):
        with app.app_context():
            try:
                for i in range(40):
                    audit.record("test.during_seal", subject=f"test:{t}:{i}")
                    db.session.commit()
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    def sealing():
        with app.app_context():
            try:
                while not stop.is_set():
                    sealer.seal(batch=7)
            except Exception as exc:
                errors.append(repr(exc))

    loop = threading.Thread(target=sealing)
    loop.start()
    appenders = [threading.Thread(target=appender, args=(t,)) for t in range(4)]
    for thread in appenders:
        thread.start()
    for thread in appenders:
        thread.join(timeout=60)
    stop.set()
    loop.join(timeout=30)
    assert not errors
    with app.app_context():
        sealer.seal()
        assert _leaf_indexes() == list(range(_count(AuditEntry)))
        assert audit.verify(chunk=100).ok


@postgres_only
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_only_one_sealer_runs_and_the_other_does_not_wait(app):
    with app.app_context():
        append(3)
        with db.engine.connect() as other:  # another sealer, mid-batch
            other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sealer.LOCK_KEY})
            started = time.monotonic()
            result = sealer.seal()
            assert result.busy and result.sealed == 0 and time.monotonic() - started < 1.0
            assert "another sealer" in str(result)
            other.rollback()
        assert sealer.seal().sealed >= 3


@postgres_only
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_a_stuck_sealer_never_blocks_a_request_and_verify_reports_the_lag(app, client, login_as):
    login_as(client, "张三")
    with app.app_context():
        sealer.seal()
        with db.engine.connect() as stuck:
            stuck.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sealer.LOCK_KEY})
            started = time.monotonic()
            response = client.get("/window/")  # refused, and audited as access.denied
            assert response.status_code == 403 and time.monotonic() - started < 2.0
            assert sealer.seal().busy
            report = audit.verify()
            assert report.ok and report.unsealed >= 1 and report.oldest_unsealed_at is not None
            stuck.rollback()


def test_a_sealer_behind_is_reported_and_requests_go_on(app, client, login_as):
    login_as(client, "张三")
    assert client.get("/window/").status_code == 403  # appended; the sealer is off under TESTING
    with app.app_context():
        report = audit.verify()
        assert report.ok and report.unsealed >= 1 and report.lag_seconds >= 0
        assert any("unsealed" in line for line in report.lines())
        lag = audit.lag()
        assert lag.unsealed == report.unsealed
    runner = app.test_cli_runner()
    behind = runner.invoke(args=["govservice", "audit", "verify", "--max-lag", "-1"])
    assert behind.exit_code == 2 and "behind" in behind.output
    assert runner.invoke(args=["govservice", "audit", "seal"]).exit_code == 0
    caught_up = runner.invoke(args=["govservice", "audit", "verify", "--max-lag", "0"])
    assert caught_up.exit_code == 0, caught_up.output
    assert "sealer lag: none" in caught_up.output and "OK" in caught_up.output


def test_sealing_twice_does_nothing_more(ctx):
    append(5)
    first = sealer.seal()
    checkpoints, nodes = _count(AuditCheckpoint), _count(AuditTreeNode)
    again = sealer.seal()
    assert again.sealed == 0 and again.checkpoints == 0
    assert (again.tree_size, again.root_hash) == (first.tree_size, first.root_hash)
    assert (_count(AuditCheckpoint), _count(AuditTreeNode)) == (checkpoints, nodes)


def test_batches_extend_the_tree_from_the_stored_frontier(ctx):
    append(23)
    result = sealer.seal(batch=5)
    total = _count(AuditEntry)
    assert result.tree_size == total and result.checkpoints == -(-total // 5)
    sizes = list(db.session.execute(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)).scalars())
    assert sizes == [min(total, 5 * k) for k in range(1, result.checkpoints + 1)]
    from govservice.audit import merkle

    leaves = [
        bytes.fromhex(h)
        for h in db.session.execute(select(AuditEntry.leaf_hash).order_by(AuditEntry.leaf_index)).scalars()
    ]
    latest = audit.latest_checkpoint()
    assert latest.root_hash == merkle.root_of(leaves).hex()
    assert cp.verify_with_keys(latest.note, cp.keys()).size == total
    assert sealer.seal(batch=5, max_batches=1).sealed == 0


def test_a_sealer_that_dies_mid_batch_leaves_nothing_half_done(ctx, monkeypatch):
    append(6)
    before = (_count(AuditCheckpoint), _count(AuditTreeNode), _count(AuditEntry, AuditEntry.leaf_index.is_not(None)))

    def killed(*args, **kwargs):
        raise RuntimeError("the sealer died here")

    monkeypatch.setattr(cp, "sign", killed)  # after the leaves and nodes were written, before the checkpoint
    with pytest.raises(RuntimeError, match="died"):
        sealer.seal()
    db.session.expire_all()
    assert (
        _count(AuditCheckpoint),
        _count(AuditTreeNode),
        _count(AuditEntry, AuditEntry.leaf_index.is_not(None)),
    ) == before
    monkeypatch.undo()
    assert sealer.seal().sealed >= 6
    assert audit.verify().ok


def test_the_sealer_refuses_to_build_on_a_damaged_log(ctx):
    append(4)
    sealer.seal(batch=2)
    latest = audit.latest_checkpoint()
    sql("DELETE FROM audit_checkpoints WHERE id = :id", id=latest.id)
    append(1)
    with pytest.raises(sealer.SealerRefused, match="audit verify"):
        sealer.seal()
    report = audit.verify()
    assert not report.ok and report.problem.kind == "orphan"
    result = ctx.test_cli_runner().invoke(args=["govservice", "audit", "seal"])
    assert result.exit_code == 1 and "audit verify" in result.output


def test_the_celery_task_and_the_beat_schedule(app):
    celery = app.extensions["celery"]
    schedule = celery.conf.beat_schedule["audit-seal"]
    assert schedule["task"] == "audit.seal" and schedule["schedule"] == app.config["AUDIT_SEAL_INTERVAL"] <= 5
    celery.loader.import_default_modules()
    assert "audit.seal" in celery.tasks
    with app.app_context():
        append(2)
        from govservice.audit.tasks import seal_task

        assert seal_task.delay().get() >= 2  # eager without a broker, as in the embedded default
        assert audit.lag().unsealed == 0


def test_who_seals_by_default():
    class App:
        def __init__(self, testing, broker, chosen="auto"):
            self.testing, self.config = testing, {"CELERY_BROKER_URL": broker, "AUDIT_SEALER": chosen}

    assert sealer.mode(App(False, "")) == "thread"
    assert sealer.mode(App(False, "redis://127.0.0.1:6379/0")) == "beat"
    assert sealer.mode(App(True, "")) == "off"
    assert sealer.mode(App(True, "", "thread")) == "thread"
    with pytest.raises(RuntimeError):
        sealer.mode(App(False, "", "sometimes"))
