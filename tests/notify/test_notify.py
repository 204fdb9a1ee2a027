"""Notices: every state change reaches the applicant in the platform and by e-mail."""

import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from govservice.cases import services as cases
from govservice.core.extensions import db
from govservice.notify import services as notify
from govservice.notify.mail import SmtpMailer
from govservice.notify.models import Notice
from govservice.review import services as review

from ..factories import person, submitted_case


def _notices(case):
    return db.session.execute(db.select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)).scalars().all()


def test_every_state_change_notifies_the_applicant(ctx, clock):
    case = submitted_case()
    case = cases.accept(case.id, person("赵敏"), case.version)
    case = review.claim(case.id, person("刘洋"), case.version)
    review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="材料齐全，准予登记。")
    db.session.refresh(case)
    notices = _notices(case)
    assert case.state == "completed"
    assert sorted(n.kind for n in notices) == sorted(f"case.{e.action}" for e in case.events)
    assert {"case.submit", "case.accept", "case.claim", "case.approve", "case.complete"} <= {n.kind for n in notices}
    assert all(n.recipient_id == case.applicant_id and n.url == f"/cases/{case.number}" for n in notices)
    accepted = next(n for n in notices if n.kind == "case.accept")
    assert notify.render(accepted) == (
        f"办件 {case.number} 已受理",
        "您申请的“个体工商户设立登记”已受理，承诺于 2026-11-26 前办结。",
    )


def test_in_development_the_email_is_printed_to_the_log(ctx, clock, caplog):
    caplog.set_level(logging.INFO, logger="govservice.notify.mail")
    case = submitted_case()
    notice = _notices(case)[0]
    assert notice.email_status == "logged"
    assert f"Subject: 办件 {case.number} 已提交" in caplog.text and "张*，您好" in caplog.text
    assert "110105198802150035" not in caplog.text


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def test_with_smtp_the_email_reaches_the_address_the_person_gave(app, client, login_as, clock, smtp_server):
    controller, inbox = smtp_server
    app.extensions["mailer"] = SmtpMailer("127.0.0.1", controller.port, security="none", timeout=5)
    login_as(client, "张三")
    bad = client.post("/notices/settings", data={"email": "not-an-address", "email_enabled": "1"})
    assert bad.status_code == 422 and "请填写正确的电子邮箱地址。" in bad.get_data(as_text=True)
    client.post("/notices/settings", data={"email": "zhangsan@example.com", "email_enabled": "1"})
    assert 'value="zhangsan@example.com"' in client.get("/notices/settings").get_data(as_text=True)
    with app.app_context():
        case = submitted_case()
        case = cases.accept(case.id, person("赵敏"), case.version)
        statuses = [n.email_status for n in _notices(case)]
    assert statuses == ["sent", "sent"]
    assert [m.rcpt_tos for m in inbox.messages] == [["zhangsan@example.com"]] * 2
    body = inbox.messages[-1].content.decode()
    assert "zhangsan@example.com" in body and "Subject:" in body


def test_a_mail_server_that_is_down_never_breaks_the_transition(app, ctx, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.extensions["mailer"] = SmtpMailer("127.0.0.1", port, security="none", timeout=2)
    zhang = person("张三")
    notify.update_settings(zhang, "zhangsan@example.com", True)
    case = submitted_case()
    case = cases.accept(case.id, person("赵敏"), case.version)
    assert case.state == "accepted"
    assert [n.email_status for n in _notices(case)] == ["failed", "failed"]


def test_a_notice_that_cannot_be_made_never_breaks_the_transition(ctx, clock, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("notices are down")

    monkeypatch.setattr(notify, "notify_case", broken)
    case = submitted_case()
    assert cases.accept(case.id, person("赵敏"), case.version).state == "accepted"


def test_the_badge_counts_unread_notices_and_reading_clears_it(app, client, login_as, clock):
    login_as(client, "张三")
    with app.app_context():
        number = submitted_case().number
    home = client.get("/").get_data(as_text=True)
    assert '<span class="badge" aria-label="1条未读">1</span>' in home
    page = client.get("/notices/").get_data(as_text=True)
    assert f"办件 {number} 已提交" in page and "等待综合窗口受理" in page
    with app.app_context():
        notice_id = db.session.execute(db.select(Notice.id)).scalar_one()
    opened = client.get(f"/notices/{notice_id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{number}")
    assert 'class="badge"' not in client.get("/").get_data(as_text=True)


def test_someone_elses_notice_is_not_found(app, client, login_as, clock):
    with app.app_context():
        submitted_case()
        notice_id = db.session.execute(db.select(Notice.id)).scalar_one()
    login_as(client, "李娜")
    assert client.get(f"/notices/{notice_id}").status_code == 404
    assert "暂无消息" in client.get("/notices/").get_data(as_text=True)


def test_mark_all_read_and_email_settings_rules(app, client, login_as, clock):
    login_as(client, "张三")
    with app.app_context():
        submitted_case()
        submitted_case()
    client.post("/notices/read")
    assert 'class="badge"' not in client.get("/").get_data(as_text=True)
    refused = client.post("/notices/settings", data={"email": "", "email_enabled": "1"})
    assert refused.status_code == 422 and "接收邮件通知需要填写电子邮箱地址。" in refused.get_data(as_text=True)
