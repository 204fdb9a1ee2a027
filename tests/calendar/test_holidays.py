"""Holidays an administrator enters for years the calendar library does not know: through the
page and the command line; deadlines that reach them are computed with them, marked provisional."""

from datetime import UTC, date, datetime

from govservice.calendar.models import Holiday
from govservice.cases import services as cases
from govservice.core.extensions import db

from ..factories import person, submitted_case


def test_the_administrator_enters_a_holiday_and_a_provisional_deadline_follows_it(app, client, login_as, clock):
    login_as(client, "郑华")
    page = client.get("/supervision/holidays").get_data(as_text=True)
    assert "节假日录入" in page
    for day in ("2027-01-04", "2027-01-05"):
        answer = client.post("/supervision/holidays", data={"day": day, "name": "元旦调休"}, follow_redirects=True)
        assert f"已录入 {day}。" in answer.get_data(as_text=True)
    with app.app_context():
        clock.at = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
        case = submitted_case()
        case = cases.accept(case.id, person("赵敏"), case.version)
        # 31 Dec; 1 Jan fixed; 2-3 weekend; 4-5 entered; 6, 7 Jan
        assert case.deadline == date(2027, 1, 7) and case.deadline_provisional
        number = case.number
    applicant = app.test_client()
    login_as(applicant, "张三")
    assert "2027-01-07（暂定：节假日安排未公布）" in applicant.get(f"/cases/{number}").get_data(as_text=True)


def test_bad_entries_are_explained_and_nothing_is_stored(app, client, login_as):
    login_as(client, "郑华")
    for data, message in (
        ({"day": "2027-02-30", "name": "x"}, "日期格式不正确"),
        ({"day": "2026-10-01", "name": "国庆节"}, "2026 年的节假日安排已由国务院公布并内置"),
        ({"day": "2027-02-08", "name": " "}, "请填写节假日名称"),
    ):
        answer = client.post("/supervision/holidays", data=data)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    client.post("/supervision/holidays", data={"day": "2027-02-08", "name": "春节"})
    twice = client.post("/supervision/holidays", data={"day": "2027-02-08", "name": "春节"})
    assert "2027-02-08 已经录入过。" in twice.get_data(as_text=True)
    removed = client.post("/supervision/holidays", data={"day": "2027-02-08", "remove": "1"}, follow_redirects=True)
    assert "已删除 2027-02-08。" in removed.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(Holiday)).scalars().all() == []


def test_only_an_administrator_enters_holidays(client, login_as):
    login_as(client, "孙强")
    assert client.post("/supervision/holidays", data={"day": "2027-02-08", "name": "春节"}).status_code == 403


def test_the_command_line_enters_lists_and_removes(app):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["govservice", "holidays", "add", "2027-02-20", "春节调休", "--working"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(args=["govservice", "holidays", "list"]).output == "2027-02-20\t春节调休\tworking day\n"
    refused = runner.invoke(args=["govservice", "holidays", "add", "2026-02-16", "春节"])
    assert refused.exit_code != 0 and "已由国务院公布并内置" in refused.output
    assert runner.invoke(args=["govservice", "holidays", "remove", "2027-02-20"]).exit_code == 0
    with app.app_context():
        assert db.session.execute(db.select(Holiday)).scalars().all() == []
