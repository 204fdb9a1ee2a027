"""The queue of notices to send: deployed (a broker configured), the web writes a notice with its
case and queues nothing on the broker; the worker's beat sends the queue in batches."""

import logging
import threading

import pytest

from govservice.cases import services as cases
from govservice.core.extensions import db
from govservice.notify import delivery
from govservice.notify.models import Notice

from ..factories import person, run_together, submitted_case


@pytest.fixture
def app_config():
    return {"CELERY_BROKER_URL": "redis://127.0.0.1:18157/0"}  # nothing listens there: nothing may be sent to it


def _queued():
    return db.session.execute(db.select(Notice.kind).where(Notice.queued.is_(True)).order_by(Notice.id)).scalars().all()


def test_notices_wait_in_their_rows_until_the_worker_sends_them(ctx, clock, caplog):
    caplog.set_level(logging.INFO, logger="govservice.notify")
    case = submitted_case()  # the broker is down: the submission stands, and its notice waits
    case = cases.accept(case.id, person("赵敏"), case.version)
    assert _queued() == ["case.submit", "case.accept"]
    notice = db.session.execute(db.select(Notice).where(Notice.kind == "case.accept")).scalar_one()
    assert (notice.email_status, notice.sms_status) == (None, None)  # not tried yet

    assert delivery.deliver_queued() == 2
    db.session.expire_all()
    assert _queued() == []
    sent = db.session.execute(db.select(Notice).order_by(Notice.id)).scalars().all()
    assert [(n.email_status, n.sms_status) for n in sent] == [("logged", "no_phone")] * 2  # 张三 gave no phone
    assert f"Subject: 办件 {case.number} 已受理" in caplog.text
    assert delivery.deliver_queued() == 0  # sent once: a second run finds nothing


def test_a_notice_shown_only_in_the_platform_is_not_queued(app, ctx, clock):
    from govservice.core.signals import people_alerted

    zhang = person("张三")
    people_alerted.send(app, recipients=[(zhang.id, "notify.index", {})], kind="case.assigned", params={})
    db.session.commit()
    assert db.session.execute(db.select(db.func.count(Notice.id))).scalar_one() == 1 and _queued() == []


def test_a_channel_that_breaks_is_recorded_and_the_notice_leaves_the_queue(app, ctx, clock, monkeypatch, caplog):
    class Broken:
        kind = "smtp"

        def send(self, message):
            raise RuntimeError("the relay closed the connection")

    from govservice.notify import services as notify

    notify.update_settings(person("张三"), "zhangsan@example.com", True)
    submitted_case()
    monkeypatch.setitem(app.extensions, "mailer", Broken())
    assert delivery.deliver_queued() == 1
    db.session.expire_all()
    notice = db.session.execute(db.select(Notice)).scalar_one()
    assert notice.email_status is None and notice.sms_status == "no_phone" and not notice.queued  # not retried forever
    assert "the relay closed the connection" in caplog.text


# Committed: two workers, each in its own thread and connection, see the committed queue.
@pytest.mark.committed
def test_two_workers_sending_the_queue_at_once_send_each_notice_once(app, clock, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent workers: SKIP LOCKED, checked on PostgreSQL (SQLite serialises transactions)")
        for _ in range(6):
            submitted_case()
    monkeypatch.setattr(delivery, "BATCH", 2)
    sent, barrier, lock = [], threading.Barrier(2), threading.Lock()
    mailer = app.extensions["mailer"]
    send = mailer.send

    def counted(mail):
        with lock:
            sent.append(mail.subject)
        return send(mail)

    monkeypatch.setattr(mailer, "send", counted)

    def worker(_i):
        with app.app_context():
            barrier.wait()
            try:
                delivery.deliver_queued()
            finally:
                db.session.remove()

    run_together(2, worker, timeout=30)
    assert len(sent) == 6 and len(set(sent)) == 6
    with app.app_context():
        assert _queued() == []
