"""Department inboxes: ordered by deadline with yellow and red marks; claiming, opinions,
decisions and sending back for a supplement through the pages, in sequence and jointly."""

import re
from datetime import UTC, datetime

from govservice.cases import services as cases
from govservice.cases.models import Case
from govservice.core.extensions import db
from govservice.review import services as review

from ..factories import JOINT, accepted_case, accepted_case_of, person, workflow_item


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def _at(clock, y, m, d):
    clock.at = datetime(y, m, d, 2, 0, tzinfo=UTC)


def test_the_inbox_is_ordered_by_deadline_with_yellow_and_red_marks(app, client, login_as, clock):
    with app.app_context():
        _at(clock, 2026, 11, 23)
        fresh = accepted_case().number  # deadline Thu 26 Nov: 3 working days left
        _at(clock, 2026, 11, 16)
        late = accepted_case().number  # deadline Thu 19 Nov: 2 working days overdue
        _at(clock, 2026, 11, 19)
        soon = accepted_case().number  # deadline Tue 24 Nov: 1 working day left
        _at(clock, 2026, 11, 23)
    login_as(client, "刘洋")
    page = client.get("/review/").get_data(as_text=True)
    rows = re.findall(r'<tr class="([^"]*)">\s*<td><a href="/review/cases/(\d+)"', page)
    assert rows == [("overdue", late), ("due-soon", soon), ("", fresh)]
    assert "已超期 2 个工作日" in page and "剩余 1 个工作日" in page and "剩余 3 个工作日" in page


def test_another_departments_officer_sees_nothing_of_a_single_department_case(app, client, login_as, clock):
    with app.app_context():
        number = accepted_case().number
    login_as(client, "陈静")
    assert number not in client.get("/review/").get_data(as_text=True)
    assert client.get(f"/review/cases/{number}").status_code == 403
    assert client.post(f"/review/cases/{number}/claim", data={"version": "2"}).status_code == 403


def test_a_joint_case_reaches_both_departments_and_is_approved_by_both(app, client, login_as, clock):
    with app.app_context():
        number = accepted_case_of(workflow_item(workflow=JOINT)).number
    market, health = app.test_client(), app.test_client()
    login_as(market, "刘洋")
    login_as(health, "陈静")
    for officer in (market, health):
        assert number in officer.get("/review/").get_data(as_text=True)
        page = officer.get(f"/review/cases/{number}").get_data(as_text=True)
        assert "并联" in page and "经营场所使用证明" in page
        officer.post(
            f"/review/cases/{number}/claim",
            data={"version": _version(page), "step": re.search(r'name="step" value="(\d+)"', page).group(1)},
        )
    page = market.get(f"/review/cases/{number}").get_data(as_text=True)
    step = re.search(r'name="step" value="(\d+)"', page).group(1)
    noted = market.post(
        f"/review/cases/{number}/opinion", data={"step": step, "note": "已核实营业场所"}, follow_redirects=True
    )
    assert "审查意见已记录。" in noted.get_data(as_text=True) and "已核实营业场所" in noted.get_data(as_text=True)
    version = _version(page)
    market.post(
        f"/review/cases/{number}/decide",
        data={"version": version, "step": step, "decision": "approve", "opinion": "符合登记条件"},
    )
    with app.app_context():
        assert cases.find_case(number).state == "in_review"  # 卫生健康委员会 has not decided
    page = health.get(f"/review/cases/{number}").get_data(as_text=True)
    assert "符合登记条件" in page  # the other department's opinion is visible
    health.post(
        f"/review/cases/{number}/decide",
        data={
            "version": _version(page),
            "step": re.search(r'name="step" value="(\d+)"', page).group(1),
            "decision": "approve",
            "opinion": "卫生条件合格",
        },
    )
    with app.app_context():
        case = cases.find_case(number)
        assert case.state == "completed" and case.decision == "approve"


def test_a_decision_without_opinion_or_conclusion_is_explained_and_the_text_kept(app, client, login_as, clock):
    with app.app_context():
        case = accepted_case()
        case = review.claim(case.id, person("刘洋"), case.version)
        number, version = case.number, case.version
    login_as(client, "刘洋")
    none = client.post(f"/review/cases/{number}/decide", data={"version": version, "opinion": "写了一半"})
    assert none.status_code == 422 and "请选择审查结论。" in none.get_data(as_text=True)
    assert "写了一半</textarea>" in none.get_data(as_text=True)
    blank = client.post(f"/review/cases/{number}/decide", data={"version": version, "decision": "deny", "opinion": ""})
    assert blank.status_code == 422 and 'id="opinion-error">请填写审查意见。' in blank.get_data(as_text=True)
    with app.app_context():
        assert cases.find_case(number).state == "in_review"


def test_a_stale_decision_page_is_told_and_changes_nothing(app, client, login_as, clock):
    with app.app_context():
        case = accepted_case()
        number = case.number
    login_as(client, "刘洋")
    client.post(f"/review/cases/{number}/claim", data={"version": "2"})
    again = client.post(f"/review/cases/{number}/claim", data={"version": "2"}, follow_redirects=True)
    assert "无法认领审查：该办件当前状态为“审查中”" in again.get_data(as_text=True)
    with app.app_context():
        assert [e.action for e in cases.find_case(number).events].count("claim") == 1


def test_the_officer_sends_the_case_back_to_the_window_and_the_clock_stops(app, client, login_as, clock):
    with app.app_context():
        case = accepted_case()
        case = review.claim(case.id, person("刘洋"), case.version)
        number, version = case.number, case.version
    login_as(client, "刘洋")
    nothing = client.post(f"/review/cases/{number}/return", data={"version": version})
    assert nothing.status_code == 422 and "请至少列出一项需要补正的材料及原因。" in nothing.get_data(as_text=True)
    sent = client.post(
        f"/review/cases/{number}/return",
        data={"version": version, "need_premises": "1", "reason_premises": "租赁期限已届满"},
        follow_redirects=True,
    )
    assert "已退回窗口补正，办理时限暂停计算。" in sent.get_data(as_text=True)
    page = client.get("/review/").get_data(as_text=True)
    assert 'class="paused"' in page and "补正中，计时暂停" in page
    with app.app_context():
        case = cases.find_case(number)
        assert case.state == "supplement_requested" and case.paused_since is not None
        assert case.supplement_requests[0].items[0]["reason"] == "租赁期限已届满"
    clerk = app.test_client()
    login_as(clerk, "赵敏")
    assert number in clerk.get("/window/").get_data(as_text=True)


def test_joint_denial_lists_every_reason_on_the_applicants_page(app, client, login_as, clock):
    with app.app_context():
        case = accepted_case_of(workflow_item(workflow=JOINT))
        page = case.version
        review.claim(case.id, person("刘洋"), page)
        review.claim(case.id, person("陈静"), page)
        page = db.session.get(Case, case.id).version
        review.decide(case.id, person("刘洋"), page, approve=False, opinion="字号与他人重名")
        review.decide(case.id, person("陈静"), page, approve=False, opinion="无健康证明")
        number = case.number
    login_as(client, "张三")
    text = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "市场监督管理局：字号与他人重名；卫生健康委员会：无健康证明" in text and "已办结" in text
