"""Staff consoles of issue 13: evidence before the decision, a confirmation that spells out the
consequence before 不予许可, 吊销 and 不予受理, the applicant's open cases at the counter, and
staff landing on their own console after signing in."""

import re

from govservice.cases import services as cases
from govservice.certificates.models import Certificate
from govservice.core.extensions import db
from govservice.review import services as review

from ..factories import accepted_case, issue, person, submitted_case
from ..window.test_console import _call, _take


def _claimed(app):
    with app.app_context():
        case = accepted_case()
        case = review.claim(case.id, person("刘洋"), case.version)
        return case.number, case.version


def test_the_officer_reads_the_application_and_materials_before_the_decision(app, client, login_as, clock):
    number, _ = _claimed(app)
    login_as(client, "刘洋")
    page = client.get(f"/review/cases/{number}").get_data(as_text=True)
    order = [page.index(words) for words in ("申请信息", "申请材料", "办理进度", "审查决定", "提交结论")]
    assert order == sorted(order), order
    assert 'data-shortcut="o"' in page and "shortcuts.js" in page


def test_denying_asks_for_confirmation_with_the_consequence_first(app, client, login_as, clock):
    number, version = _claimed(app)
    login_as(client, "刘洋")
    data = {"version": version, "decision": "deny", "opinion": "经营场所不符合要求", "step": ""}
    with app.app_context():
        data["step"] = str(cases.find_case(number).steps[0].id)
    first = client.post(f"/review/cases/{number}/decide", data=data)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "确认不予许可" in page and "提交后不能撤回或修改" in page
    assert "经营场所不符合要求" in page and 'name="confirmed" value="1"' in page
    with app.app_context():
        assert cases.find_case(number).state == "in_review"  # nothing decided yet
    client.post(f"/review/cases/{number}/decide", data=dict(data, confirmed="1"))
    with app.app_context():
        assert cases.find_case(number).decision == "deny"


def test_revoking_asks_for_confirmation_with_the_consequence_first(app, ctx, client, login_as, clock):
    certificate = issue()
    login_as(client, "刘洋")
    url = f"/review/certificates/{certificate.identifier}/revoke"
    page = client.post(url, data={"reason": "以欺骗手段取得登记"}).get_data(as_text=True)
    assert "确认吊销" in page and "核验页面" in page and "吊销不能恢复" in page
    assert db.session.get(Certificate, certificate.id).status == "valid"
    client.post(url, data={"reason": "以欺骗手段取得登记", "confirmed": "1"})
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == "revoked"


def test_not_accepting_spells_out_the_consequence(app, client, login_as, clock):
    with app.app_context():
        number = submitted_case().number
    login_as(client, "赵敏")
    page = client.get(f"/window/cases/{number}/refuse").get_data(as_text=True)
    assert "办件就此终止" in page and "决定作出后不能撤回" in page
    console = client.get(f"/window/cases/{number}").get_data(as_text=True)
    assert 'class="button quiet-danger"' in console and 'data-shortcut="a"' in console  # 受理 is the loud one
    assert console.index("申请信息") < console.index("预审结论")


def test_the_counter_shows_the_identified_applicants_open_cases(app, client, login_as, clock):
    with app.app_context():
        open_number = accepted_case().number  # 张三's case, in progress
    _take(app.test_client())
    login_as(client, "赵敏")
    ticket = _call(client)
    page = client.post(f"{ticket}/identify", data={"id_number": "110105198802150035"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "该申请人正在办理的办件" in page and open_number in page and "已受理" in page


def test_staff_land_on_their_console_and_citizens_at_home(app, login):
    # Where the real sign-in sends each person is the point here: through the live provider.
    clerk, officer, citizen = app.test_client(), app.test_client(), app.test_client()
    for client, name, place in ((clerk, "赵敏", "/window/"), (officer, "刘洋", "/review/"), (citizen, "张三", "/")):
        client.get("/auth/login", query_string={"next": "/"})
        landed = login(client, name)
        where = landed.headers["Location"]
        if where.endswith("/start"):
            where = client.get(where).headers["Location"]
        assert re.sub(r"^https?://[^/]+", "", where) == place, (name, where)
