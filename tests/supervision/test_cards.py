"""电子监察 cards: yellow for a case due soon, red for an overdue case and for a poor rating left
unanswered; each department told once per run; 督办 with a reply due; the department's reply;
trends; and a second run that issues nothing more."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from govservice.core.extensions import db
from govservice.notify.models import Notice
from govservice.notify.services import render
from govservice.review import services as review
from govservice.supervision import cards, tasks
from govservice.supervision import services as supervision
from govservice.supervision.cards import SupervisionCard

from ..factories import accepted_case, in_review_case, person, run_together


def _cards():
    return list(db.session.execute(select(SupervisionCard).order_by(SupervisionCard.id)).scalars())


def _notices(name: str) -> list[Notice]:
    return list(
        db.session.execute(
            select(Notice).where(Notice.recipient_id == person(name).id, Notice.kind.like("card.%")).order_by(Notice.id)
        ).scalars()
    )


def test_due_soon_is_yellow_overdue_is_red_and_a_second_run_issues_nothing(ctx, clock):
    case = accepted_case()  # Monday 2026-11-23, 3 working days: due Thursday 11-26
    assert case.deadline.isoformat() == "2026-11-26"
    assert cards.issue_cards().yellow == 0  # 3 working days left: nothing yet
    clock.advance(days=2)  # Wednesday: one working day left
    report = cards.issue_cards()
    assert (report.yellow, report.red) == (1, 0)
    [yellow] = _cards()
    assert (yellow.colour, yellow.reason, yellow.case_id, yellow.department.name) == (
        "yellow",
        "due_soon",
        case.id,
        "市场监督管理局",
    )
    assert tasks.issue_cards_task() == {"yellow": 0, "red": 0}  # the beat's task: idempotent
    clock.advance(days=2)  # Friday: past the deadline
    assert (cards.issue_cards().red, cards.issue_cards().red) == (1, 0)
    assert [(c.colour, c.reason) for c in _cards()] == [("yellow", "due_soon"), ("red", "overdue")]
    # the department's officer and the supervisor were told once per run that issued cards
    officer = _notices("刘洋")
    assert [n.kind for n in officer] == ["card.issued", "card.issued"]
    title, body = render(officer[-1])
    assert "市场监督管理局" in title and "红牌 1 张" in body and officer[-1].url == "/review/cards"
    assert [n.url for n in _notices("孙强")] == ["/supervision/cards", "/supervision/cards"]
    assert _notices("陈静") == []  # another department's officer hears nothing


def test_a_poor_rating_left_unanswered_past_its_due_is_a_red_card(ctx, clock):
    case = in_review_case()
    case = review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="同意")
    supervision.evaluate(case.id, person("张三"), 1, "等了很久", channel="online")
    assert cards.issue_cards().red == 0
    clock.advance(days=30)
    report = cards.issue_cards()
    assert [c.reason for c in _cards()] == ["poor_rating"] and report.red == 1


def test_urging_asks_for_a_reply_by_a_date_and_the_department_answers(app, client, login_as, clock):
    with app.app_context():
        accepted_case()
        clock.advance(days=4)
        cards.issue_cards()
        [card] = _cards()
        card_id = card.id
    login_as(client, "孙强")
    page = client.get("/supervision/cards").get_data(as_text=True)
    assert "红牌" in page and "超期未办结" in page and "监察卡片趋势（承办部门，黄牌/红牌）" in page
    empty = client.post(f"/supervision/cards/{card_id}/urge", data={"version": "1", "note": " ", "reply_days": "3"})
    assert empty.status_code == 422 and "请填写督办意见。" in empty.get_data(as_text=True)
    bad_days = client.post(
        f"/supervision/cards/{card_id}/urge", data={"version": "1", "note": "请说明", "reply_days": "x"}
    )
    assert bad_days.status_code == 422 and "答复期限请填写 1 到 30 个工作日。" in bad_days.get_data(as_text=True)
    urged = client.post(
        f"/supervision/cards/{card_id}/urge",
        data={"version": "1", "note": "请说明超期原因", "reply_days": "2"},
        follow_redirects=True,
    )
    assert "已督办" in urged.get_data(as_text=True)
    stale = client.post(f"/supervision/cards/{card_id}/urge", data={"version": "1", "note": "again", "reply_days": "2"})
    assert stale.status_code == 422 and "已被他人处理" in stale.get_data(as_text=True)
    dashboard = client.get("/supervision/").get_data(as_text=True)
    assert "监察卡片（未办结 1，红牌 1）" in dashboard and "监察卡片趋势" in dashboard

    officer = client.application.test_client()
    login_as(officer, "刘洋")
    mine = officer.get("/review/cards").get_data(as_text=True)
    assert "请说明超期原因" in mine and "2026-12-01" in mine  # Friday 11-27 + 2 working days
    replied = officer.post(
        f"/review/cards/{card_id}/reply", data={"version": "2", "reply": "已加派人手，今日办结"}, follow_redirects=True
    )
    assert "督办答复已提交。" in replied.get_data(as_text=True)
    other = client.application.test_client()
    login_as(other, "陈静")
    assert "请说明超期原因" not in other.get("/review/cards").get_data(as_text=True)
    refused = other.post(f"/review/cards/{card_id}/reply", data={"version": "3", "reply": "x"})
    assert refused.status_code == 422 and "只有该部门的审批人员可以答复此卡片。" in refused.get_data(as_text=True)
    with app.app_context():
        [card] = _cards()
        assert (card.status, card.reply) == ("replied", "已加派人手，今日办结")
        assert [n.kind for n in _notices("孙强")][-1] == "card.replied"
        assert [n.kind for n in _notices("刘洋")][-1] == "card.urged"


def test_trends_count_cards_by_month_department_and_item(ctx, clock):
    accepted_case()
    accepted_case()
    clock.advance(days=4)
    cards.issue_cards()
    trends = cards.trends(person("孙强"))
    assert trends.months[-1] == "2026-11" and len(trends.months) == 6
    assert dict(trends.by_department)["市场监督管理局"]["2026-11"] == [0, 2]
    assert dict(trends.by_item)["个体工商户设立登记"]["2026-11"] == [0, 2]
    assert (trends.open_count, trends.red_count) == (2, 2)
    assert db.session.execute(select(func.count(SupervisionCard.id))).scalar() == 2


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="SQLite serialises writers on the database file: two runs at once need PostgreSQL",
)
@pytest.mark.committed  # threads on connections of their own, each committing: a real race
def test_two_runs_at_once_issue_each_card_once_on_postgresql(app, clock):
    with app.app_context():
        accepted_case()
    clock.advance(days=4)
    barrier, reports = threading.Barrier(4), []

    def run(_i):
        with app.app_context():
            barrier.wait(timeout=30)
            reports.append(cards.issue_cards().red)
            db.session.remove()

    run_together(4, run)
    with app.app_context():
        assert sorted(reports) == [0, 0, 0, 1] and len(_cards()) == 1
        assert len(_notices("刘洋")) == 1
