"""Applying through the web: every bad input gets a clear message and loses nothing."""
import io
import re

from govservice.cases.models import Case
from govservice.extensions import db

from ..conftest import pdf_upload
from ..factories import ANSWERS, ITEM, accepted_case, submitted_case

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


def test_an_empty_required_field_is_shown_beside_the_field_and_the_rest_is_kept(app, client, login):
    login(client, "张三")
    response = _post(client, business_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="business_name-error">请填写个体工商户名称。', page)
    assert 'value="北京市朝阳区示例路8号"' in page          # what was typed is still there
    assert _count(app) == 0


def test_invalid_values_are_each_explained(app, client, login):
    login(client, "张三")
    page = _post(client, phone="12345", capital="-1").get_data(as_text=True)
    assert "请填写正确的手机号码或固定电话。" in page
    assert "资金数额（万元）应在 0 到 100000 之间。" in page
    assert _count(app) == 0


def test_the_id_number_comes_from_the_login_not_the_browser(app, client, login):
    login(client, "张三")
    _post(client, operator_id_number="11010519491231002X", operator_name="李四")
    with app.app_context():
        case = db.session.execute(db.select(Case)).scalar_one()
        assert case.form_data["operator_id_number"] == "110105198802150035"
        assert case.form_data["operator_name"] == "张三"


def test_a_file_that_is_not_what_it_claims_is_refused_with_the_reason(app, client, login):
    login(client, "张三")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    page = _post(client, material_premises=(io.BytesIO(png), "lease.pdf")).get_data(as_text=True)
    assert "文件扩展名与内容不符（内容是 PNG）" in page
    page = _post(client, material_premises=(io.BytesIO(b"MZ\x90\x00 not a document"), "lease.pdf")).get_data(as_text=True)
    assert "文件类型不符合要求，只接受 PDF、JPG、PNG 文件。" in page
    assert _count(app) == 0


def test_a_file_that_is_too_large_is_refused_with_the_limit(app, client, login):
    login(client, "张三")
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10)
    page = _post(client, material_premises=(io.BytesIO(big), "lease.pdf")).get_data(as_text=True)
    assert "文件过大" in page and "不能超过 10 MB" in page
    assert _count(app) == 0


def test_a_request_beyond_the_upload_limit_gets_a_clear_page(app, client, login):
    login(client, "张三")
    huge = b"%PDF-1.4\n" + b"0" * (12 * 1024 * 1024)
    response = _post(client, material_premises=(io.BytesIO(huge), "lease.pdf"))
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)


def test_a_second_submit_of_the_same_form_makes_no_second_case(app, client, login):
    login(client, "张三")
    first = _post(client, key="twice")
    second = _post(client, key="twice")
    assert first.headers["Location"] == second.headers["Location"]
    assert "该申请已提交过，未重复创建。" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 1


def test_another_citizen_cannot_open_my_case(app, client, login):
    with app.app_context():
        number = submitted_case().number
    login(client, "李娜")
    assert client.get(f"/cases/{number}").status_code == 403


def test_a_citizen_opening_a_staff_page_is_refused(client, login):
    login(client, "张三")
    for url in ("/window/", "/review/", "/review/certificates"):
        response = client.get(url)
        assert response.status_code == 403 and "您没有权限访问此页面。" in response.get_data(as_text=True)


def test_an_officer_of_another_department_cannot_open_the_case(app, client, login):
    with app.app_context():
        number = accepted_case().number
    login(client, "陈静")
    assert client.get(f"/review/cases/{number}").status_code == 403


def test_a_clerk_accepting_an_accepted_case_is_told_and_nothing_changes(app, client, login, clock):
    with app.app_context():
        case = submitted_case()
        number = case.number
    login(client, "赵敏")
    client.post(f"/window/cases/{number}/accept", data={"version": "1"})
    again = client.post(f"/window/cases/{number}/accept", data={"version": "1"}, follow_redirects=True)
    assert "无法受理：该办件当前状态为“已受理”" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.execute(db.select(Case)).scalar_one().events) == 2


def test_the_applicant_withdraws_before_acceptance(app, client, login):
    login(client, "张三")
    location = _post(client).headers["Location"]
    number = location.rsplit("/", 1)[-1]
    page = client.post(f"/cases/{number}/withdraw", data={"version": "1"}, follow_redirects=True)
    assert "申请已撤回。" in page.get_data(as_text=True) and "已撤回" in page.get_data(as_text=True)


def test_an_expired_form_is_explained_when_csrf_is_on(app, client, login):
    login(client, "张三")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/apply/{ITEM}", data=dict(FORM), headers={"Referer": f"http://localhost/apply/{ITEM}"},
                           follow_redirects=True)
    assert "页面已过期或会话已失效" in response.get_data(as_text=True)
    assert _count(app) == 0
