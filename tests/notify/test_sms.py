"""Notices by SMS (issue 13): through the development gateway, which records each message, or a
production gateway over HTTP (URL and key, as the mail server is configured), with its delivery
report; per-person phone and switch; the certificate holder told of a revocation."""

import hashlib
import hmac
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from govservice.cases import services as cases
from govservice.certificates import lifecycle
from govservice.core.extensions import db
from govservice.notify import services as notify
from govservice.notify.models import Notice
from govservice.notify.sms import HttpGateway

from ..factories import issue, person, submitted_case

PHONE = "13912345678"


def _last(kind):
    return db.session.execute(db.select(Notice).where(Notice.kind == kind).order_by(Notice.id.desc())).scalars().first()


def test_the_development_gateway_records_each_notice_to_the_persons_phone(app, ctx, clock):
    outbox = app.extensions["sms_gateway"]
    before = len(outbox.messages())
    notify.update_settings(person("张三"), "", False, phone=PHONE, sms_enabled=True)
    case = submitted_case()
    cases.accept(case.id, person("赵敏"), case.version)
    sent = outbox.messages()[before:]
    assert [m["to"] for m in sent] == [PHONE, PHONE]
    assert "【一网通办】张*，您申请的“个体工商户设立登记”已受理，承诺于 2026-11-26 前办结。" in sent[1]["text"]
    assert f"/cases/{case.number}" in sent[1]["text"] and "110105198802150035" not in sent[1]["text"]
    assert _last("case.accept").sms_status == "logged" and _last("case.accept").sms_id == sent[1]["id"]


def test_no_phone_or_sms_switched_off_is_recorded_not_sent(app, ctx, clock):
    outbox = app.extensions["sms_gateway"]
    before = len(outbox.messages())
    submitted_case()  # 张三 has no phone on record here
    assert _last("case.submit").sms_status == "no_phone"
    notify.update_settings(person("张三"), "", False, phone=PHONE, sms_enabled=False)
    submitted_case()
    assert _last("case.submit").sms_status == "off" and len(outbox.messages()) == before


def test_a_bad_phone_is_refused_with_a_clear_message(app, client, login_as, clock):
    login_as(client, "张三")
    answer = client.post("/notices/settings", data={"phone": "1234", "sms_enabled": "1"})
    assert answer.status_code == 422 and "请填写正确的手机号码（11位，以1开头）。" in answer.get_data(as_text=True)
    assert 'value="1234"' in answer.get_data(as_text=True)
    saved = client.post("/notices/settings", data={"phone": "139 1234 5678", "sms_enabled": "1"}, follow_redirects=True)
    assert "通知设置已保存。" in saved.get_data(as_text=True) and 'value="13912345678"' in saved.get_data(as_text=True)


@pytest.fixture
def gateway():
    """A stand-in SMS platform on a loopback port: takes messages, answers with an id."""
    received = []

    @Request.application
    def platform(request):
        received.append({"auth": request.headers.get("Authorization"), "body": json.loads(request.data)})
        return Response(
            json.dumps({"id": f"gw-{len(received)}", "status": "accepted"}), status=201, content_type="application/json"
        )

    for port in range(18470, 18500):
        try:
            server = make_server("127.0.0.1", port, platform)
            break
        except OSError:
            continue
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    thread.join(timeout=5)


def test_the_http_gateway_sends_with_the_key_and_takes_the_delivery_report(app, ctx, client, clock, gateway):
    url, received = gateway
    app.config["SMS_GATEWAY_KEY"] = "gateway-key"
    app.extensions["sms_gateway"] = HttpGateway(url, "gateway-key", callback_url="http://localhost/notices/sms/status")
    notify.update_settings(person("张三"), "", False, phone=PHONE, sms_enabled=True)
    submitted_case()
    notice = _last("case.submit")
    assert notice.sms_status == "accepted" and notice.sms_id == "gw-1"
    assert received[0]["auth"] == "Bearer gateway-key" and received[0]["body"]["to"] == PHONE
    assert received[0]["body"]["status_callback"].endswith("/notices/sms/status")

    report = json.dumps({"id": "gw-1", "status": "delivered"}).encode()
    forged = client.post("/notices/sms/status", data=report, headers={"X-Signature": "00" * 32})
    assert forged.status_code == 400
    signature = hmac.new(b"gateway-key", report, hashlib.sha256).hexdigest()
    assert client.post("/notices/sms/status", data=report, headers={"X-Signature": signature}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).sms_status == "delivered"


def test_a_gateway_that_is_down_only_marks_the_sms_failed(app, ctx, clock):
    app.extensions["sms_gateway"] = HttpGateway("http://127.0.0.1:9", "k", callback_url="x", timeout=0.5)
    notify.update_settings(person("张三"), "", False, phone=PHONE, sms_enabled=True)
    case = submitted_case()
    assert case.state == "submitted" and _last("case.submit").sms_status == "failed"


def test_the_holder_is_told_when_the_certificate_is_revoked(app, ctx, clock):
    outbox = app.extensions["sms_gateway"]
    notify.update_settings(person("张三"), "", False, phone=PHONE, sms_enabled=True)
    certificate = issue()
    assert notify.render(_last("certificate.issue"))[0] == "您的营业执照已签发"
    lifecycle.revoke(certificate.id, person("刘洋"), "以欺骗手段取得登记")
    notice = _last("certificate.revoke")
    title, body = notify.render(notice)
    assert notice.recipient_id == certificate.holder_id and title == "您的营业执照已被吊销"
    assert "原因：以欺骗手段取得登记" in body and "不能再出示使用" in body
    assert "已被发证部门吊销" in outbox.messages()[-1]["text"] and notice.sms_status == "logged"


def test_a_mailer_that_breaks_still_lets_the_sms_of_the_notice_go_out(app, ctx, clock):
    """E-mail and SMS are one job per notice: a channel that breaks does not keep the other back."""

    class Broken:
        kind = "smtp"

        def send(self, message):
            raise RuntimeError("the mailer broke")

    app.extensions["mailer"] = Broken()
    outbox = app.extensions["sms_gateway"]
    before = len(outbox.messages())
    notify.update_settings(person("张三"), "zhangsan@example.com", True, phone=PHONE, sms_enabled=True)
    case = submitted_case()
    assert case.state == "submitted"
    assert [m["to"] for m in outbox.messages()[before:]] == [PHONE]
    notice = _last("case.submit")
    assert notice.sms_status == "logged" and notice.email_status is None
