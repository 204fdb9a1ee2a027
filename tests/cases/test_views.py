"""Applying through the web: every bad input gets a clear message and loses nothing."""

import io
import re

from govservice.cases.models import Case
from govservice.core.extensions import db

from ..factories import ANSWERS, ITEM, accepted_case, pdf_upload, submitted_case

FORM = {k: v for k, v in ANSWERS.items() if k not in ("operator_name", "operator_id_number")}


def _post(client, **overrides):
    data = dict(FORM, idempotency_key="k-" + overrides.pop("key", "1"), material_premises=pdf_upload())
    data.update(overrides)
    return client.post(f"/apply/{ITEM}", data=data, content_type="multipart/form-data")


def _count(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Case.id))).scalar_one()


def test_signing_in_is_required_to_apply(client):
    response = client.get(f"/apply/{ITEM}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_empty_required_field_is_shown_beside_the_field_and_the_rest_is_kept(app, client, login_as):
    login_as(client, "张三")
    response = _post(client, business_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="business_name-error">请填写个体工商户名称。', page)
    assert 'value="北京市朝阳区示例路8号"' in page  # what was typed is still there
    assert _count(app) == 0


def test_invalid_values_are_each_explained(app, client, login_as):
    login_as(client, "张三")
    page = _post(client, phone="12345", capital="-1").get_data(as_text=True)
    assert "请填写正确的手机号码或固定电话。" in page
    assert "资金数额（万元）应在 0 到 100000 之间。" in page
    assert _count(app) == 0


def test_the_id_number_comes_from_the_login_not_the_browser(app, client, login_as):
    login_as(client, "张三")
    _post(client, operator_id_number="11010519491231002X", operator_name="李四")
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.form_data["operator_id_number"] == "110105198802150035"
        assert case.form_data["operator_name"] == "张三"


def test_a_file_that_is_not_what_it_claims_is_refused_with_the_reason(app, client, login_as):
    login_as(client, "张三")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    page = _post(client, material_premises=(io.BytesIO(png), "lease.pdf")).get_data(as_text=True)
    assert "文件扩展名与内容不符（内容是 PNG）" in page
    page = _post(client, material_premises=(io.BytesIO(b"MZ\x90\x00 not a document"), "lease.pdf")).get_data(
        as_text=True
    )
    assert "文件类型不符合要求，只接受 PDF、JPG、PNG 文件。" in page
    assert _count(app) == 0


def test_a_file_that_is_too_large_is_refused_with_the_limit(app, client, login_as):
    login_as(client, "张三")
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10)
    page = _post(client, material_premises=(io.BytesIO(big), "lease.pdf")).get_data(as_text=True)
    assert "文件过大" in page and "不能超过 10 MB" in page
    assert _count(app) == 0


def test_a_request_beyond_the_upload_limit_gets_a_clear_page(app, client, login_as):
    login_as(client, "张三")
    huge = b"%PDF-1.4\n" + b"0" * (12 * 1024 * 1024)
    response = _post(client, material_premises=(io.BytesIO(huge), "lease.pdf"))
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)


def test_a_second_submit_of_the_same_form_makes_no_second_case(app, client, login_as):
    login_as(client, "张三")
    first = _post(client, key="twice")
    second = _post(client, key="twice")
    assert first.headers["Location"].split("?")[0] == second.headers["Location"].split("?")[0]
    assert "申请已提交，办件编号" in client.get(first.headers["Location"]).get_data(as_text=True)
    assert "该申请已提交过，未重复创建。" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 1


def test_a_submission_and_its_page_leave_the_session_as_it_was_read(app, client, login_as, monkeypatch):
    """The acknowledgement travels in the case page's address, not in a flash: neither the POST
    nor the page after it writes the session (a write is an encryption and a store round trip)."""
    login_as(client, "张三")
    client.get(f"/apply/{ITEM}")
    saved = []
    store = app.session_interface.store
    monkeypatch.setattr(store, "save", lambda *args, **kw: saved.append(args))
    response = _post(client, key="quiet")
    assert response.status_code == 302 and "submitted=new" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'role="status">申请已提交，办件编号 \d{20}。', page)
    assert saved == []
    plain = client.get(response.headers["Location"].split("?")[0]).get_data(as_text=True)
    assert "申请已提交" not in plain  # the case's own address shows no acknowledgement


def test_a_submission_costs_a_bounded_number_of_statements(app, client, login_as, monkeypatch):
    """The person and their roles, the item and its department, then the case's rows and its
    number: no look-up of the key first (its unique constraint refuses a second case), no read
    of the case after the commit; the notice's e-mail and SMS queued in its own row (deployed,
    with a broker: nothing is queued on the broker, the worker's beat sends the queue). A retried
    submission costs less."""
    from sqlalchemy import event

    from govservice.notify.models import Notice

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:18157/0")  # never asked
    login_as(client, "张三")
    _post(client, key="warm")  # the process's first request fills its caches
    statements = []

    def seen(conn, cursor, statement, *args):
        if "web_sessions" in statement:  # the session store (Redis when deployed)
            return
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):  # the test's own
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = _post(client, key="counted")
        once = len(statements)
        again = _post(client, key="counted")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0] and _count(app) == 2
    assert once <= 9, [s[:60] for s in statements]
    assert len(statements) - once <= 5, [s[:60] for s in statements[once:]]
    with app.app_context():
        queued = db.session.execute(db.select(Notice.kind).where(Notice.queued.is_(True))).scalars().all()
    assert queued == ["case.submit", "case.submit"]  # one for each case, waiting for the worker


def test_another_citizen_cannot_open_my_case(app, client, login_as):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "李娜")
    assert client.get(f"/cases/{number}").status_code == 403


def test_a_citizen_opening_a_staff_page_is_refused(client, login_as):
    login_as(client, "张三")
    for url in ("/window/", "/review/", "/review/certificates"):
        response = client.get(url)
        assert response.status_code == 403 and "您没有权限访问此页面。" in response.get_data(as_text=True)


def test_an_officer_of_another_department_cannot_open_the_case(app, client, login_as):
    with app.app_context():
        number = accepted_case().number
    login_as(client, "陈静")
    assert client.get(f"/review/cases/{number}").status_code == 403


def test_a_clerk_accepting_an_accepted_case_is_told_and_nothing_changes(app, client, login_as, clock):
    with app.app_context():
        case = submitted_case()
        number = case.number
    login_as(client, "赵敏")
    client.post(f"/window/cases/{number}/accept", data={"version": "1"})
    again = client.post(f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True)
    assert "无法受理：该办件当前状态为“已受理”" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.execute(db.select(Case)).scalar_one().events) == 2


def test_the_applicant_withdraws_before_acceptance(app, client, login_as):
    login_as(client, "张三")
    location = _post(client).headers["Location"]
    number = location.split("?")[0].rsplit("/", 1)[-1]
    page = client.post(f"/cases/{number}/withdraw", data={"version": "1"}, follow_redirects=True)
    assert "申请已撤回。" in page.get_data(as_text=True) and "已撤回" in page.get_data(as_text=True)


def test_an_expired_form_is_explained_when_csrf_is_on(app, client, login_as):
    login_as(client, "张三")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/apply/{ITEM}", data=dict(FORM), headers={"Referer": f"http://localhost/apply/{ITEM}"}, follow_redirects=True
    )
    assert "页面已过期或会话已失效" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_the_form_s_csrf_token_is_checked_once_and_a_forged_one_is_refused(app, client, login_as):
    """The application form carries the token that CSRFProtect checks before the view; the form
    itself signs and checks no second one."""
    login_as(client, "张三")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/apply/{ITEM}").get_data(as_text=True)
    form = re.search(r'<form method="post" enctype="multipart/form-data".*?</form>', page, re.S).group(0)
    tokens = re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert len(tokens) == 1  # one hidden field in the form, not the form's own as well
    forged = _post(client, csrf_token=tokens[0][:-4] + "AAAA", key="forged")
    assert forged.status_code == 400 and _count(app) == 0
    sent = _post(client, csrf_token=tokens[0], key="real")
    assert sent.status_code == 302 and "/cases/" in sent.headers["Location"]
    assert _count(app) == 1


# --- the front office (issue 4): pre-fill, held certificates, drafts, acting for a business -------


from govservice.audit.models import AuditEntry  # noqa: E402
from govservice.cases.models import ApplicationDraft  # noqa: E402
from govservice.identity.models import Enterprise  # noqa: E402
from govservice.registry.backends import RegistryUnavailable  # noqa: E402

from .. import factories  # noqa: E402
from ..factories import person  # noqa: E402

RESTAURANT = "91110105MA01EFGH30"
JZZ = {
    "residence_address": "北京市朝阳区示例东路6号院3号楼502室",
    "resident_since": "2025-03-01",
    "basis": "合法稳定住所",
    "phone": "13800000002",
}
LHJY = {
    "employment": "其他灵活就业人员",
    "insurances": "养老、医疗",
    "contribution_base": "7000",
    "start_month": "2026-12-01",
    "residence_address": "北京市朝阳区示例东路6号院3号楼502室",
    "phone": "13800000002",
}
ZXDJ = {
    "business_name": "北京市朝阳区张三便利店",
    "credit_code": "92110105MA0000001Y",  # of 张三's business licence: issue it with this code
    "reason": "决定停止经营",
    "debts_settled": "已清理完毕",
    "phone": "13800000001",
}


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)


def _apply(client, code, data, **files):
    page = client.get(f"/apply/{code}").get_data(as_text=True)
    body = dict(data, idempotency_key=_key(page), **files)
    return client.post(f"/apply/{code}", data=body, content_type="multipart/form-data")


def _case(app):
    with app.app_context():
        return db.session.execute(db.select(Case).order_by(Case.id.desc())).scalars().first()


class Down:
    """A registry that does not answer."""

    source = "test"

    def person(self, *a, **k):
        raise RegistryUnavailable("test", "timeout")

    legal_person = represented_by = person


def jpg_upload(name="photo.jpg"):
    return (io.BytesIO(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\0" * 200), name)


def test_the_form_is_prefilled_from_the_population_registry_with_the_source_shown(app, client, login_as):
    login_as(client, "李娜")
    page = client.get("/apply/gaj-jzz-sl").get_data(as_text=True)
    assert re.search(r'<option selected value="女">女</option>', page)
    assert (
        re.search(r'<select[^>]*disabled[^>]*id="sex"', page) and '<input type="hidden" name="sex" value="女">' in page
    )
    assert 'value="广东省广州市天河区天河路100号"' in page and 'value="1995-07-20"' in page
    assert "来源：人口基础信息库（不可修改）" in page and "来源：登录身份（不可修改）" in page
    assert re.search(r'id="household_address"[^>]*readonly', page)
    with app.app_context():
        entry = (
            db.session.execute(
                db.select(AuditEntry).where(AuditEntry.action == "registry.lookup").order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry.purpose == "预填申请表：居住证申领（gaj-jzz-sl）" and entry.actor_id == person("李娜").id


def test_registry_values_are_taken_again_at_submission_not_from_the_browser(app, client, login_as, clock):
    login_as(client, "李娜")
    response = _apply(
        client,
        "gaj-jzz-sl",
        dict(JZZ, household_address="北京市东城区假地址1号", sex="男"),
        material_photo=jpg_upload(),
        material_residence_proof=pdf_upload(),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    case = _case(app)
    with app.app_context():
        case = db.session.get(Case, case.id)
        assert case.form_data["household_address"] == "广东省广州市天河区天河路100号" and case.form_data["sex"] == "女"
        assert case.field_sources["household_address"] == "population" and case.field_sources["name"] == "login"
        lookups = (
            db.session.execute(
                db.select(AuditEntry).where(AuditEntry.action == "registry.lookup", AuditEntry.case_id == case.id)
            )
            .scalars()
            .all()
        )
        assert len(lookups) == 1 and lookups[0].purpose.startswith("提交申请：居住证申领")
    detail = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "来源：人口基础信息库" in detail and "来源：登录身份" in detail


def test_a_registry_that_does_not_answer_never_blocks_the_form(app, client, login_as, clock):
    app.extensions["registry"] = Down()
    login_as(client, "李娜")
    page = client.get("/apply/gaj-jzz-sl").get_data(as_text=True)
    assert "人口基础信息库暂时无法访问，相关内容未能自动填写，请您自行填写。" in page
    assert not re.search(r'id="household_address"[^>]*readonly', page)  # the applicant types it instead
    assert 'value="李娜"' in page  # the login still fills the name
    response = _apply(
        client,
        "gaj-jzz-sl",
        dict(
            JZZ, sex="女", ethnicity="汉族", birth_date="1995-07-20", household_address="广东省广州市天河区天河路100号"
        ),
        material_photo=jpg_upload(),
        material_residence_proof=pdf_upload(),
    )
    assert response.status_code == 302
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert case.form_data["ethnicity"] == "汉族" and case.field_sources["household_address"] == "applicant"
        failed = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.case_id == case.id, AuditEntry.action == "registry.lookup")
        ).scalar_one()
        assert failed.detail["result"] == "unavailable"


def test_a_form_with_several_mistakes_shows_each_beside_its_field_and_keeps_the_rest(app, client, login_as, clock):
    login_as(client, "张三")
    response = _apply(
        client,
        "gaj-csdj",
        {
            "relation": "父亲",
            "child_name": "张小三",
            "child_sex": "男",
            "child_birth_date": "2026-12-24",
            "birth_certificate_number": "12345",
            "other_parent_id_number": "110105198802150036",
            "phone": "138",
        },
        material_birth_certificate=pdf_upload(),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="child_birth_date-error">出生日期不能晚于今天。', page)
    assert "出生医学证明编号为1位大写字母加9位数字" in page and "身份证号码校验码不正确" in page
    assert "请填写正确的手机号码或固定电话。" in page and "请上传父母双方居民户口簿。" in page
    assert 'value="张小三"' in page and _count(app) == 0


def test_a_held_certificate_replaces_a_material(app, client, login_as, clock):
    with app.app_context():
        licence = factories.issue("yyzz", credit_code=ZXDJ["credit_code"])  # 张三's business licence
        identifier = licence.identifier
    login_as(client, "张三")
    page = client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    assert f"使用我的电子证照（免提交）：营业执照 {identifier}" in page
    missing = _apply(client, "scjgj-gtgsh-zxdj", ZXDJ)
    assert "请上传营业执照正本、副本，或选用您持有的电子证照。" in missing.get_data(as_text=True) and _count(app) == 0
    response = _apply(client, "scjgj-gtgsh-zxdj", dict(ZXDJ, cert_licence=identifier))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert [(m.material_code, m.certificate_identifier) for m in case.certificate_materials] == [
            ("licence", identifier)
        ]
        assert case.form_data["_held_certificates"] == {"licence": identifier} and not case.attachments
        assert (
            db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "case.certificate_material"))
            .scalar_one()
            .case_id
            == case.id
        )
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "以电子证照代替的材料（免提交）" in detail and identifier in detail


def test_a_revoked_or_someone_elses_certificate_cannot_stand_in(app, client, login_as, clock):
    from govservice.certificates import lifecycle

    with app.app_context():
        licence = factories.issue("yyzz")
        identifier = licence.identifier
        lifecycle.revoke(licence.id, person("刘洋"), "以欺骗手段取得登记")
    login_as(client, "张三")
    assert identifier not in client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    page = _apply(client, "scjgj-gtgsh-zxdj", dict(ZXDJ, cert_licence=identifier)).get_data(as_text=True)
    assert "请上传营业执照正本、副本" in page and _count(app) == 0
    with app.app_context():
        other = factories.issue("yyzz").identifier  # valid, but 张三's
    lina = app.test_client()
    login_as(lina, "李娜")
    page = _apply(lina, "scjgj-gtgsh-zxdj", dict(ZXDJ, cert_licence=other)).get_data(as_text=True)
    assert other not in lina.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    assert "请上传营业执照正本、副本" in page and _count(app) == 0


def test_a_draft_keeps_answers_and_files_and_resumes(app, client, login_as, clock):
    login_as(client, "张三")
    page = client.get(f"/apply/{ITEM}").get_data(as_text=True)
    saved = client.post(
        f"/apply/{ITEM}",
        data={
            "action": "save",
            "business_name": "张三小吃",
            "capital": "abc",
            "idempotency_key": _key(page),
            "material_premises": pdf_upload(),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302 and "draft=" in saved.headers["Location"]
    resumed = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'value="张三小吃"' in resumed and 'value="abc"' in resumed  # kept as typed, even if not valid yet
    assert "已保存的文件：premises.pdf" in resumed
    assert "继续填写" in client.get("/cases").get_data(as_text=True)
    draft_id = int(saved.headers["Location"].rsplit("=", 1)[1])
    with app.app_context():
        stored = db.session.get(ApplicationDraft, draft_id)
        assert "张三小吃" not in stored.data_enc  # encrypted at rest
    submitted = client.post(
        f"/apply/{ITEM}",
        data=dict(FORM, business_name="张三小吃", draft=str(draft_id), idempotency_key=_key(resumed)),
        content_type="multipart/form-data",
    )
    assert submitted.status_code == 302
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert case.form_data["business_name"] == "张三小吃"
        assert [a.filename for a in case.attachments] == ["premises.pdf"]  # the draft's file
        assert db.session.get(ApplicationDraft, draft_id) is None
    assert "继续填写" not in client.get("/cases").get_data(as_text=True)


def test_a_draft_refuses_a_bad_file_with_the_reason_and_keeps_the_rest(app, client, login_as):
    login_as(client, "张三")
    page = client.get(f"/apply/{ITEM}").get_data(as_text=True)
    response = client.post(
        f"/apply/{ITEM}",
        data={
            "action": "save",
            "business_name": "张三小吃",
            "idempotency_key": _key(page),
            "material_premises": (io.BytesIO(b"MZ not a pdf"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件类型不符合要求" in body and 'value="张三小吃"' in body
    with app.app_context():
        draft = db.session.execute(db.select(ApplicationDraft)).scalar_one()
        assert draft.data["business_name"] == "张三小吃" and draft.files == {}


def test_someone_elses_draft_is_not_opened(app, client, login_as):
    login_as(client, "张三")
    page = client.get(f"/apply/{ITEM}").get_data(as_text=True)
    saved = client.post(
        f"/apply/{ITEM}",
        data={"action": "save", "business_name": "张三小吃", "idempotency_key": _key(page)},
        content_type="multipart/form-data",
    )
    other = app.test_client()
    login_as(other, "李娜")
    assert "张三小吃" not in other.get(saved.headers["Location"]).get_data(as_text=True)
    draft_id = saved.headers["Location"].rsplit("=", 1)[1]
    assert "草稿不存在。" in other.post(f"/drafts/{draft_id}/discard", follow_redirects=True).get_data(as_text=True)


def test_a_business_item_needs_acting_for_a_business(client, login_as):
    login_as(client, "张三")
    response = client.get("/apply/wsjkw-ggcswsxk", follow_redirects=True)
    assert "该事项需要以企业身份申请" in response.get_data(as_text=True)


def _act_for(app, client, uscc=RESTAURANT):
    with app.app_context():
        enterprise_id = db.session.execute(db.select(Enterprise.id).where(Enterprise.uscc == uscc)).scalar_one()
    client.post("/auth/acting-as", data={"enterprise": str(enterprise_id), "next": "/"})
    return enterprise_id


def test_the_representative_applies_for_the_business_with_its_registry_data(app, client, login_as, clock):
    login_as(client, "王五")
    enterprise_id = _act_for(app, client)
    page = client.get("/apply/wsjkw-ggcswsxk").get_data(as_text=True)
    assert 'value="北京朝阳示例餐饮有限公司"' in page and f'value="{RESTAURANT}"' in page
    assert "来源：法人基础信息库" in page and "申请主体：北京朝阳示例餐饮有限公司" in page
    assert "该事项只能以个人身份申请" in client.get("/apply/gaj-jzz-sl", follow_redirects=True).get_data(as_text=True)
    response = _apply(
        client,
        "wsjkw-ggcswsxk",
        {
            "unit_name": "别的公司",
            "address": "北京市朝阳区示例路20号1层101",
            "licensed_items": "住宿场所",
            "floor_area": "320",
            "staff_count": "12",
            "hygiene_manager": "王五",
            "phone": "13800000003",
        },
        material_plans=pdf_upload(),
        material_inspection=pdf_upload(),
        material_rules=pdf_upload(),
        material_health=pdf_upload(),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert case.enterprise_id == enterprise_id and case.form_data["unit_name"] == "北京朝阳示例餐饮有限公司"
        assert case.field_sources["credit_code"] == "legal_person"


def test_the_business_offers_its_own_held_licence(app, client, login_as, clock):
    login_as(client, "王五")
    enterprise_id = _act_for(app, client)
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        licence = factories.certificates.issue(
            "spjyxkz",
            enterprise.legal_representative,
            dict(factories.DATA["spjyxkz"], credit_code=RESTAURANT),
            enterprise=enterprise,
        )
        identifier = licence.identifier
    page = client.get("/apply/scjgj-spjyxk-bg").get_data(as_text=True)
    assert f"使用我的电子证照（免提交）：食品经营许可证 {identifier}" in page
    client.post("/auth/acting-as", data={"enterprise": "", "next": "/"})  # back to acting as oneself
    assert identifier not in client.get("/apply/scjgj-spjyxk-bg").get_data(as_text=True)


def test_my_cases_show_the_current_step_department_and_deadline(app, client, login_as, clock):
    login_as(client, "张三")
    number = _post(client).headers["Location"].split("?")[0].rsplit("/", 1)[1]
    listing = client.get("/cases").get_data(as_text=True)
    assert number in listing and "综合窗口受理" in listing
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        from govservice.cases import services as cases

        cases.accept(case.id, person("赵敏"), case.version)
    detail = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "当前环节" in detail and "部门审查：市场监督管理局" in detail
    assert "2026-11-26" in detail and "剩余 3 个工作日" in detail
    assert "办理过程" in detail and "受理" in detail


def test_a_supplement_request_shows_on_the_progress_page_and_in_the_notices(app, client, login_as, clock):
    login_as(client, "张三")
    number = _post(client).headers["Location"].split("?")[0].rsplit("/", 1)[1]
    with app.app_context():
        from govservice.cases import services as cases

        case = db.session.execute(db.select(Case)).scalar_one()
        cases.request_supplement(
            case.id,
            person("赵敏"),
            case.version,
            [{"material": "premises", "reason": "租赁合同未签字，请提交签字后的扫描件"}],
        )
    detail = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "待申请人补正材料" in detail and "租赁合同未签字，请提交签字后的扫描件" in detail
    assert f"办件 {number} 需要补正材料" in client.get("/notices/").get_data(as_text=True)


def test_a_new_draft_of_an_item_whose_material_a_certificate_may_replace_is_saved(app, client, login_as):
    """It used to fail with a 500: the held-certificate query flushed the half-made draft."""
    login_as(client, "张三")
    page = client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    saved = client.post(
        "/apply/scjgj-gtgsh-zxdj",
        data=dict(ZXDJ, action="save", idempotency_key=_key(page), material_licence=pdf_upload("licence.pdf")),
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302 and "draft=" in saved.headers["Location"]
    assert "已保存的文件：licence.pdf" in client.get(saved.headers["Location"]).get_data(as_text=True)
