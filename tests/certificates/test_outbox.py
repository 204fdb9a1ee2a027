"""The outbox: what verifications answered from memory owe Redis, sent in batches, spooled until then."""

import json
import os
import time

import pytest

from govservice import create_app
from govservice.certificates import outbox, verification
from govservice.certificates.models import Verification
from govservice.core.extensions import db

from ..factories import issue

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the outbox carries entries to Redis (the PostgreSQL + Redis run)"
)


def _count():
    return db.session.execute(db.select(db.func.count(Verification.id))).scalar_one()


@pytest.fixture
def box(ctx, tmp_path):
    """The app's outbox, spooling into a folder of the test's own (other apps of this process,
    e.g. second instances made by other tests, keep their spools in the instance folder)."""
    assert ctx.extensions["mirror"].wait_live()
    found = outbox.outbox()
    found.discard()
    instance_spool, found.folder = found.folder, str(tmp_path / "spool")
    os.makedirs(found.folder)
    yield found
    found.discard()
    found.folder = instance_spool


def _spooled(box):
    """The entries in the outbox's folder's spool files (a file is kept open for the next entries)."""
    lines = []
    for name in sorted(os.listdir(box.folder)):
        if name.startswith("verifications-"):
            with open(os.path.join(box.folder, name), encoding="utf-8") as spool:
                lines += spool.read().splitlines()
    return lines


def test_a_check_answered_from_memory_makes_no_round_trip_and_is_logged_at_the_push(ctx, clock, box, monkeypatch):
    certificate = issue()
    ctx.extensions["mirror"].sync()  # the issue's own announcement heard: nothing will drop what is read now
    assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "valid"  # read once
    calls = []
    client = ctx.extensions["redis_link"].client
    real = client.execute_command
    monkeypatch.setattr(client, "execute_command", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    for _ in range(3):
        assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "valid"
    assert calls == []  # status, rate limit and log entry: all in the process
    assert box.pending() == 4 and len(_spooled(box)) == 4  # written to the spool before the answer
    monkeypatch.setattr(client, "execute_command", real)
    verification.flush()  # pushes first, then drains
    assert _count() == 4 and box.pending() == 0 and _spooled(box) == []


def test_entries_a_dead_process_left_in_its_spool_are_replayed_once(ctx, clock, box):
    certificate = issue()
    verification.verify_token(certificate.token, channel="page", verifier="t")
    verification.verify_token(certificate.token, channel="page", verifier="t")
    lines = _spooled(box)
    box.discard()  # the process dies: nothing pushed, its lock released
    orphan = os.path.join(box.folder, "verifications-999999-dead-1.jsonl")
    with open(orphan, "w", encoding="utf-8") as spool:
        spool.write("\n".join(lines) + '\n{"uid": "torn')  # killed in the middle of a third write
    copy = orphan.replace("-1.jsonl", "-2.jsonl")  # the same entries twice (replayed, then found again)
    with open(copy, "w", encoding="utf-8") as spool:
        spool.write("\n".join(lines) + "\n")
    assert box.replay_orphans() == 4
    assert not os.path.exists(orphan) and not os.path.exists(copy)
    verification.flush()
    assert _count() == 2  # each verification once; the torn line was never answered
    assert json.loads(lines[0])["uid"] in db.session.execute(db.select(Verification.uid)).scalars().all()


def test_a_live_processs_spool_is_left_alone(ctx, clock, box):
    certificate = issue()
    verification.verify_token(certificate.token, channel="page", verifier="t")
    assert box.replay_orphans() == 0 and box.pending() == 1  # its own file is locked by it


def test_a_batch_redis_does_not_take_goes_to_the_database(ctx, clock, box, monkeypatch):
    certificate = issue()
    verification.verify_token(certificate.token, channel="page", verifier="t")
    monkeypatch.setattr(box.link, "call", lambda fn, fallback=None: fallback)  # Redis stops answering
    box.push()
    assert _count() == 1 and box.pending() == 0 and _spooled(box) == []


def test_rate_limit_hits_of_two_instances_add_up_in_redis(app, ctx, box):
    other = create_app(dict(app.config))  # a second instance of the platform
    key = f"page:203.0.113.{int(time.time() * 1000) % 250}"

    def hits(instance, count):
        answers = []
        with instance.test_request_context():
            for _ in range(count):
                try:
                    verification.Quota(key, "5/minute").check()
                    answers.append("ok")
                except verification.RateLimited as exc:
                    answers.append(f"wait {exc.retry_after}")
            outbox.outbox().push()  # what each one's thread does every OUTBOX_INTERVAL
        return answers

    assert hits(app, 3) == ["ok"] * 3
    first, *rest = hits(other, 1) + hits(other, 2)  # the other learns the total at its first push
    assert first == "ok" and rest[0] == "ok" and rest[1].startswith("wait ")
    # this one hears of the other's hits at its own next push: one interval's hits may pass meanwhile
    assert hits(app, 1) == ["ok"] and hits(app, 1)[0].startswith("wait ")


def test_a_spool_that_cannot_be_written_costs_no_answer(ctx, clock, box, monkeypatch, caplog):
    certificate = issue()
    monkeypatch.setattr(box, "folder", "/dev/null/spool")  # a disk that refuses
    verification.verify_token(certificate.token, channel="page", verifier="t")
    assert verification.verify_token(certificate.token, channel="page", verifier="t")[0] == "valid"
    assert "cannot write the verification spool" in caplog.text
    verification.flush()
    assert _count() == 2


def test_a_push_with_nothing_owed_keeps_the_file_being_written(ctx, clock, box):
    certificate = issue()
    verification.verify_token(certificate.token, channel="page", verifier="t")
    box.push()  # sends it; the next entries go to a new file
    box.push()  # an idle round: nothing owed
    verification.verify_token(certificate.token, channel="page", verifier="t")
    assert len(_spooled(box)) == 1  # written to a file still open, not lost nor written elsewhere
    verification.flush()
    assert _count() == 2 and _spooled(box) == []
