"""自助终端: a terminal registered and enrolled by the platform, sign-in by ID card, applying and
printing there, and signing out (by 退出 or a minute idle) leaving nothing for the next person."""

from __future__ import annotations

from sqlalchemy import select

from govservice.audit.models import AuditEntry
from govservice.cases.models import Case
from govservice.core.extensions import db

from .conftest import HALL, card, enrolled_client, flashes, page, register


def _actions(app, prefix="kiosk."):
    with app.app_context():
        return [
            (a, d)
            for a, d in db.session.execute(
                select(AuditEntry.action, AuditEntry.detail)
                .where(AuditEntry.action.like(prefix + "%"))
                .order_by(AuditEntry.id)
            )
        ]


def test_a_browser_that_is_no_registered_terminal_gets_only_the_enrollment_screen(app, client):
    for path in ("/kiosk/", "/kiosk/items", "/kiosk/cases", "/kiosk/apply/rsj-lhjy-cbdj", "/kiosk/certificates"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk/enroll"), path
    assert client.post("/kiosk/card", data={"card": "zhangsan"}).headers["Location"].endswith("/kiosk/enroll")
    assert "启用自助服务终端" in page(client.get("/kiosk/enroll"))


def test_an_administrator_registers_a_terminal_whose_code_enrolls_it_once(app, login_as):
    admin = app.test_client()
    login_as(admin, "郑华")
    bad = admin.post("/admin/kiosks", data={"name": " ", "hall": "1", "reader_key": ""})
    assert bad.status_code == 422 and "请填写终端名称" in page(bad)
    bad_key = admin.post("/admin/kiosks", data={"name": "一层 1号机", "hall": "1", "reader_key": "not a key"})
    assert bad_key.status_code == 422 and "不是有效的 PEM 公钥" in page(bad_key)
    assert 'value="一层 1号机"' in page(bad_key)  # what was typed is kept
    done = page(admin.post("/admin/kiosks", data={"name": "一层 1号机", "hall": "1"}))
    import re

    code = re.search(r'<strong class="mono code">([A-Z0-9-]+)</strong>', done).group(1)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    terminal = app.test_client()
    wrong = terminal.post("/kiosk/enroll", data={"code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 422 and "启用码无效或已过期" in page(wrong)
    enrolled = terminal.post(
        "/kiosk/enroll", data={"code": code.lower().replace("-", " ")}
    )  # as typed on a touch screen
    cookie = enrolled.headers["Set-Cookie"]
    assert (
        "kiosk_device=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/kiosk" in cookie
    )
    assert "请刷身份证登录" in page(terminal.get("/kiosk/")) and "一层 1号机" in page(terminal.get("/kiosk/"))
    again = app.test_client().post("/kiosk/enroll", data={"code": code})
    assert again.status_code == 422  # once only
    assert "使用中" in page(admin.get("/admin/kiosks"))
    with app.app_context():
        from govservice.kiosk.models import KioskDevice

        device = db.session.execute(select(KioskDevice)).scalars().one()
        secret = cookie.split("kiosk_device=", 1)[1].split(";", 1)[0].split(".", 1)[1]
        assert device.secret_hash != secret and device.enrollment_hash is None  # only hashes are kept
        device_id = device.id
    card(terminal)
    assert "张*，您好" in page(terminal.get("/kiosk/"))
    admin.post(f"/admin/kiosks/{device_id}/revoke")
    refused = terminal.get("/kiosk/")
    assert refused.headers["Location"].endswith("/kiosk/enroll")  # revoked: refused, and the person signed out
    assert [a for a, _ in _actions(app)] == [
        "kiosk.register",
        "kiosk.enroll",
        "kiosk.revoke",
        "kiosk.sign_out",
    ]


def test_an_enrollment_code_expires(app, clock):
    _device_id, code = register(app)
    clock.advance(hours=25)
    response = app.test_client().post("/kiosk/enroll", data={"code": code})
    assert response.status_code == 422 and "启用码无效或已过期" in page(response)


def test_sign_in_by_card_apply_and_print_the_receipt(app, terminal):
    welcome = page(terminal.get("/kiosk/"))
    assert "开发用读卡器" in welcome and "110105********0035" in welcome  # the demo cards, masked
    signed_in = card(terminal)
    assert signed_in.status_code == 302
    menu = page(terminal.get("/kiosk/"))
    assert "张*，您好" in menu and "退出" in menu and 'data-idle-seconds="60"' in menu
    items = page(terminal.get("/kiosk/items"))
    assert "灵活就业人员参保登记" in items and "公共场所卫生许可" not in items  # an enterprise's item is not offered
    form = page(terminal.get("/kiosk/apply/rsj-lhjy-cbdj"))
    assert 'value="110105198802150035"' in form and "readonly" in form  # from the card, not to be changed
    key = form.split('name="idempotency_key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answers = {
        "idempotency_key": key,
        "employment": "其他灵活就业人员",
        "insurances": "养老、医疗",
        "contribution_base": "5000",  # below the lower limit
        "start_month": "2026-12-01",
        "residence_address": "北京市朝阳区示例路8号",
        "phone": "13800000001",
    }
    bad = terminal.post("/kiosk/apply/rsj-lhjy-cbdj", data=answers)
    assert bad.status_code == 422 and "申请未提交" in page(bad) and 'value="北京市朝阳区示例路8号"' in page(bad)
    done = terminal.post("/kiosk/apply/rsj-lhjy-cbdj", data=dict(answers, contribution_base="8000"))
    assert done.status_code == 302 and "/kiosk/cases/" in done.headers["Location"]
    number = done.headers["Location"].split("?")[0].rsplit("/", 1)[1]
    assert number in page(terminal.get("/kiosk/cases"))
    receipt = page(terminal.get(f"/kiosk/cases/{number}/receipt"))
    assert "申请回执" in receipt and number in receipt and "查询码" in receipt and "data-print" in receipt
    assert "张*（110105********0035）" in receipt and "data:image/png;base64," in receipt  # masked; the QR
    with app.app_context():
        case = db.session.execute(select(Case).where(Case.number == number)).scalar_one()
        assert case.applicant.name == "张三" and case.state == "submitted"
    printed = [d for a, d in _actions(app) if a == "kiosk.print"]
    assert printed == [{"what": "receipt", "kiosk": printed[0]["kiosk"], "hall": HALL}]
    [(_, sign_in)] = _actions(app, "identity.sign_in")
    assert sign_in["level"] == 2 and sign_in["provider"].startswith("kiosk:")


def test_another_persons_case_is_not_shown_or_printed(app, terminal):
    from govservice.identity.demo import person

    with app.app_context():
        from ..factories import submitted_case

        number = submitted_case("李娜").number
    card(terminal)
    assert terminal.get(f"/kiosk/cases/{number}/receipt").status_code == 403
    assert not [a for a, _ in _actions(app) if a == "kiosk.print"]
    with app.app_context():
        assert person("李娜").name == "李娜"


def test_cards_that_cannot_sign_in_are_refused_with_a_reason(app, terminal, monkeypatch):
    expired = card(terminal, "zhangsan-expired")
    assert expired.headers["Location"].endswith("/kiosk/")
    assert "该身份证已过有效期" in page(terminal.get("/kiosk/"))
    assert "请刷身份证登录" in page(terminal.get("/kiosk/"))  # still nobody signed in
    assert "未读到身份证" in " ".join(flashes(page(card(terminal, "nobody") and terminal.get("/kiosk/"))))
    from govservice.registry import services as registry

    def down(*args, **kwargs):
        raise registry.RegistryUnavailable("population", "timeout")

    monkeypatch.setattr(registry, "person", down)
    card(terminal)
    assert "暂时无法核验身份" in page(terminal.get("/kiosk/"))
    reasons = [d["reason"] for a, d in _actions(app) if a == "kiosk.sign_in_refused"]
    assert reasons == ["expired", "registry_unavailable"]


def test_a_minute_idle_signs_out_on_the_server_too(app, terminal, clock):
    card(terminal)
    clock.advance(seconds=50)
    assert "灵活就业人员参保登记" in page(terminal.get("/kiosk/items"))  # a touch: the minute starts again
    clock.advance(seconds=70)  # the page signs out at 60 s; the server at 75 s if the page did not
    assert "灵活就业人员参保登记" in page(terminal.get("/kiosk/items"))
    clock.advance(seconds=76)
    ended = terminal.get("/kiosk/items")
    assert ended.headers["Location"].endswith("/kiosk/")
    welcome = page(terminal.get("/kiosk/"))
    assert "上一位用户长时间未操作，已自动退出。" in welcome and "张*" not in welcome and "您好" not in welcome
    assert [d["reason"] for a, d in _actions(app) if a == "kiosk.sign_out"] == ["idle"]


def test_the_session_store_ends_a_kiosk_session_after_the_minute(app, terminal, clock):
    from govservice.identity import sessions

    card(terminal)
    with app.app_context():
        from govservice.identity.demo import person

        records = list(sessions.store().for_person(person("张三").id).values())
        assert records and all(r.idle_seconds == 90 for r in records)  # not the citizen's 30 minutes
        clock.advance(seconds=91)
        assert sessions.active_for(person("张三").id) == []  # ended in the store, whatever the page does


def test_sign_out_leaves_nothing_of_the_person_in_the_browser(app, terminal):
    card(terminal)
    assert terminal.get("/kiosk/cases").headers["Cache-Control"] == "no-store"
    out = terminal.post("/kiosk/sign-out", data={"reason": "button"})
    assert out.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert any(c.startswith("session=;") or "session=; " in c for c in out.headers.getlist("Set-Cookie"))
    assert terminal.get("/kiosk/cases").headers["Location"].endswith("/kiosk/")  # back: nothing there
    welcome = page(terminal.get("/kiosk/"))
    assert "请刷身份证登录" in welcome and "张*" not in welcome
    assert terminal.get("/kiosk/").headers["Cache-Control"] == "no-store"
    assert "一层大厅 1号机" in welcome  # the terminal itself stays enrolled
    assert [d["reason"] for a, d in _actions(app) if a == "kiosk.sign_out"] == ["button"]


def test_a_session_from_the_terminal_stays_in_the_terminal(app, terminal):
    card(terminal)
    for path in ("/cases", "/wallet", "/me", "/"):
        response = terminal.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk/"), path


def test_a_session_begun_elsewhere_is_not_used_at_the_terminal(app, terminal, login_as):
    login_as(terminal, "张三")  # someone signed in on the site in the terminal's browser
    assert terminal.get("/kiosk/").headers["Location"].endswith("/kiosk/")  # that session is ended here
    welcome = page(terminal.get("/kiosk/"))
    assert "请刷身份证登录" in welcome and "您好" not in welcome
    assert terminal.get("/cases").headers["Location"].endswith("/auth/login?next=%2Fcases")


def test_the_next_card_replaces_the_person(app, terminal):
    card(terminal)
    card(terminal, "lina")
    assert "李*，您好" in page(terminal.get("/kiosk/"))
    assert [d["reason"] for a, d in _actions(app) if a == "kiosk.sign_out"] == ["next_card"]


def test_a_certificate_is_printed_with_its_verification_qr_and_masked(app, terminal):
    from govservice.certificates.models import Certificate
    from govservice.identity.demo import person
    from govservice.review import services as review

    from ..factories import accepted_case

    with app.app_context():
        case = accepted_case()  # 张三's 个体工商户设立登记
        case = review.claim(case.id, person("刘洋"), case.version)
        review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="符合登记条件")
        identifier = db.session.execute(select(Certificate.identifier)).scalar_one()
    card(terminal)
    listed = page(terminal.get("/kiosk/certificates"))
    assert identifier in listed and "打印证照" in listed
    printed = page(terminal.get(f"/kiosk/certificates/{identifier}/print"))
    assert "营业执照" in printed and identifier in printed and "data:image/png;base64," in printed
    assert "110105198802150035" not in printed  # a paper copy may be left in the tray
    assert [d["what"] for a, d in _actions(app) if a == "kiosk.print"] == ["certificate"]
    card(terminal, "lina")
    assert terminal.get(f"/kiosk/certificates/{identifier}/print").status_code == 403


def test_the_operator_registers_and_disables_a_terminal_on_the_command_line(app):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["kiosk", "register", "--name", "乡镇便民服务中心 1号机", "--hall", HALL])
    assert done.exit_code == 0, done.output
    code = done.output.split("enrollment code ", 1)[1].split()[0]
    terminal = enrolled_client(app, code)
    card(terminal)
    assert "张*，您好" in page(terminal.get("/kiosk/"))
    assert "enrolled" in runner.invoke(args=["kiosk", "list"]).output
    assert runner.invoke(args=["kiosk", "register", "--name", "x", "--hall", HALL]).exit_code != 0
    assert "no service hall" in runner.invoke(args=["kiosk", "register", "--name", "一层", "--hall", "nowhere"]).output
    device_id = done.output.split()[1]
    assert runner.invoke(args=["kiosk", "revoke", device_id]).exit_code == 0
    assert terminal.get("/kiosk/").headers["Location"].endswith("/kiosk/enroll")
    with app.app_context():
        [(_, detail)] = [(a, d) for a, d in _actions(app) if a == "kiosk.register"]
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "kiosk.register")).scalar_one()
        assert entry.actor_id is None and detail["hall"] == HALL  # the operator, not a person
