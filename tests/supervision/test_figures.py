"""电子监察 figures against a hand-counted set of cases (November 2026, no holidays but weekends).

    case  channel  lead    accepted   deadline   what happened                          at 23 Nov
    A     online   scjgj   Mon 2 Nov  Thu 5 Nov  approved Wed 4 Nov                      done, 2 days, on time
    B     window   scjgj   Mon 2 Nov  Thu 5 Nov  denied Mon 9 Nov                        done, 5 days, late
    C     online   scjgj   Mon 2 Nov  Thu 5 Nov  sent back Tue 3, answered Fri 6 Nov      done, 6-3 = 3 days, on time
                                      -> Tue 10  (3 working days paused), approved Tue 10
    D     online   wsjkw   Mon 16 Nov Thu 19 Nov still waiting                          overdue by 2 working days
    E     window   scjgj   Thu 19 Nov Tue 24 Nov still waiting                          1 working day left
    F     online   scjgj   -          -          submitted Mon 23 Nov                    not accepted yet
    G     window   scjgj   -          -          refused Fri 20 Nov                      不予受理

On-time rate 2/3 = 66.7 %; average 10/3 = 3.3 working days; ratings A 5, B 1 (a rectification task).
"""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from govservice.cases import services as cases
from govservice.core.extensions import db
from govservice.review import services as review
from govservice.supervision import figures
from govservice.supervision import services as supervision

from ..factories import ANSWERS, accepted_case_of, case_of, pdf_file, person, staff, workflow_item

SINGLE = [{"mode": "sequential", "departments": ["scjgj"]}]
HEALTH = [{"mode": "sequential", "departments": ["wsjkw"]}]


def _at(clock, day):
    clock.at = datetime(2026, 11, day, 2, 0, tzinfo=UTC)


def _window_case(item, key):
    case, _ = cases.intake_at_window(person("赵敏"), person("李娜"), item, dict(ANSWERS), [pdf_file()], key)
    return case


def _decide(case, approve, opinion="审查意见"):
    case = review.claim(case.id, person("刘洋" if case.department.code == "scjgj" else "陈静"), case.version)
    return review.decide(case.id, case.steps[-1].claimed_by, case.version, approve=approve, opinion=opinion)


def build(clock) -> dict:
    market = workflow_item("test-market", SINGLE, name="小餐饮登记")
    health = workflow_item("test-health", HEALTH, name="公共场所卫生许可（测试）", department="wsjkw")
    clerk = person("赵敏")
    _at(clock, 2)
    a = accepted_case_of(market)
    b = _window_case(market, "b")
    b = cases.accept(b.id, clerk, b.version)
    c = accepted_case_of(market)
    _at(clock, 3)
    c = review.claim(c.id, person("刘洋"), c.version)
    c = review.return_for_supplement(c.id, person("刘洋"), c.version, [{"material": "premises", "reason": "不清晰"}])
    _at(clock, 4)
    _decide(a, True)
    _at(clock, 6)
    c = cases.resubmit(c.id, person("张三"), c.version, [pdf_file()])
    c = cases.accept(c.id, clerk, c.version)
    c = review.claim(c.id, person("刘洋"), c.version)
    _at(clock, 9)
    _decide(b, False)
    _at(clock, 10)
    review.decide(c.id, person("刘洋"), c.version, approve=True, opinion="补正后符合要求")
    _at(clock, 16)
    d = accepted_case_of(health)
    _at(clock, 19)
    e = _window_case(market, "e")
    e = cases.accept(e.id, clerk, e.version)
    _at(clock, 20)
    g = _window_case(market, "g")
    cases.not_accept(g.id, clerk, g.version, reason="不属于本机关职权", basis="《行政许可法》第三十二条")
    _at(clock, 23)
    f = case_of(market)
    supervision.evaluate(a.id, person("张三"), "5", "很快", channel="online")
    supervision.evaluate(b.id, clerk, "1", "等了很久也没人解释", channel="window")
    return {name: db.session.get(cases.Case, x.id).number for name, x in zip("ABCDEFG", (a, b, c, d, e, f, g))}


def test_the_figures_match_the_hand_count(ctx, clock):
    numbers = build(clock)
    f = figures.compute(None)
    assert f.total == 7
    assert f.by_state == [("待受理", 1), ("不予受理", 1), ("已受理", 2), ("已办结", 3)]
    assert f.by_department == [("市场监督管理局", 6), ("卫生健康委员会", 1)]
    assert f.by_item == [("小餐饮登记", 6), ("公共场所卫生许可（测试）", 1)]
    assert f.by_channel == [("网上申请", 4), ("窗口受理", 3)]
    assert (f.completed, f.on_time, f.on_time_rate, f.average_days) == (3, 2, 66.7, 3.3)
    used = {r.number: (r.used_days, r.on_time) for r in figures.case_rows(None) if r.used_days is not None}
    assert used == {numbers["A"]: (2, True), numbers["B"]: (5, False), numbers["C"]: (3, True)}
    assert [(r.case.number, r.days_left) for r in f.overdue] == [(numbers["D"], -2)] and f.overdue_count == 1
    assert [(r.case.number, r.days_left) for r in f.due_soon] == [(numbers["E"], 1)] and f.due_soon_count == 1
    assert (f.ratings, f.average_rating) == (2, 3.0)
    assert f.rating_counts == [(5, 1), (4, 0), (3, 0), (2, 0), (1, 1)]
    assert f.rating_by_department == [("市场监督管理局", 2, 3.0)]
    assert f.open_rectifications == 1


def test_a_period_and_a_department_narrow_the_figures(ctx, clock):
    numbers = build(clock)
    later = figures.compute(None, figures.Period(date(2026, 11, 16), None))
    assert later.total == 4 and later.completed == 0 and later.on_time_rate is None and later.average_days is None
    health = catalog_department("wsjkw")
    only_health = figures.compute([health])
    assert only_health.total == 1 and [r.case.number for r in only_health.overdue] == [numbers["D"]]
    assert only_health.ratings == 0 and only_health.open_rectifications == 0


def catalog_department(code):
    from govservice.catalog import services as catalog

    return catalog.department(code).id


def test_the_dashboard_shows_and_charts_the_figures_and_exports_them(app, client, login_as, clock):
    with app.app_context():
        numbers = build(clock)
    login_as(client, "孙强")
    response = client.get("/supervision/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="kpi-total">7<' in page and 'id="kpi-ontime">66.7%<' in page
    assert 'id="kpi-days">3.3 个工作日<' in page and 'id="kpi-overdue">1<' in page and 'id="kpi-rating">3.0<' in page
    # each chart is an image with a text alternative, and its figures follow as a table
    assert '<svg viewBox="0 0 480 130" width="100%" role="img"' in page
    assert '<desc id="by-state-svg-desc">待受理：1；不予受理：1；已受理：2；已办结：3</desc>' in page
    assert '<tr><th scope="row">窗口受理</th><td>3</td></tr>' in page
    assert numbers["D"] in page.split("超期未办结")[2]  # the overdue list
    exported = client.get("/supervision/export/cases.csv")
    assert exported.mimetype == "text/csv" and exported.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["办件编号", "事项编码", "事项名称"] and len(rows) == 8
    b = next(r for r in rows if r[0] == numbers["B"])
    assert b[4:6] == ["窗口受理", "已办结"] and b[11:13] == ["5", "否"] and b[14] == "1"
    summary = list(csv.reader(io.StringIO(client.get("/supervision/export/summary.csv").data.decode("utf-8-sig"))))
    assert ["时效", "按时办结率（%）", "66.7"] in summary and ["按渠道", "网上申请", "4"] in summary


def test_a_bad_period_is_explained(client, login_as):
    login_as(client, "孙强")
    response = client.get("/supervision/?from=2026-13-01")
    assert response.status_code == 422 and "日期格式不正确" in response.get_data(as_text=True)
    response = client.get("/supervision/?from=2026-11-20&to=2026-11-01")
    assert "开始日期不能晚于结束日期。" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["张三", "赵敏", "刘洋"])
def test_only_supervisors_see_supervision(client, login_as, name):
    login_as(client, name)
    assert client.get("/supervision/").status_code == 403
    assert client.get("/supervision/export/cases.csv").status_code == 403


def test_a_department_supervisor_sees_only_the_department(app, client, login_as, clock):
    with app.app_context():
        build(clock)
        staff("李娜", "supervisor", "wsjkw")
    login_as(client, "李娜")
    assert 'id="kpi-total">1<' in client.get("/supervision/").get_data(as_text=True)
