"""电子监察 cards in a real browser, with the demo logins: the demo's overdue case has a red card;
孙强 sees it with the trends on the dashboard and urges the department (督办) with a reply due;
刘洋 (市场监督管理局) is told in 消息, opens 监察卡片 and replies; 孙强 sees the reply."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_journey import flash, sign_in


def test_a_red_card_is_urged_and_answered(new_context, screenshot):
    supervisor = new_context().new_page()
    sign_in(supervisor, "孙强")
    supervisor.get_by_role("link", name="电子监察").click()
    expect(supervisor.get_by_role("table", name="监察卡片趋势（承办部门，黄牌/红牌）")).to_contain_text(
        "市场监督管理局"
    )
    supervisor.get_by_role("link", name=re.compile(r"监察卡片（未办结 \d+，红牌 \d+）")).click()
    card = supervisor.locator("section.card-red").first
    expect(card).to_contain_text("红牌")
    expect(card).to_contain_text("超期未办结")
    expect(card).to_contain_text("个体工商户设立登记")
    number = re.search(r"\d{20}", card.get_by_role("heading").inner_text()).group(0)
    card.get_by_role("button", name="督办").click()
    expect(card.get_by_role("alert")).to_contain_text("请填写督办意见。")  # nothing typed: told, nothing lost
    card = supervisor.locator("section.card-red").first
    card.get_by_label("督办意见").fill("请说明超期原因并尽快办结")
    card.get_by_label("答复期限（工作日）").fill("2")
    card.get_by_role("button", name="督办").click()
    expect(flash(supervisor)).to_contain_text("已督办")
    screenshot(supervisor, "82-supervision-cards")

    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    officer.get_by_role("link", name=re.compile("^消息")).click()
    expect(officer.get_by_role("main")).to_contain_text(f"督办：办件 {number}")
    officer.get_by_role("link", name="监察卡片", exact=True).click()
    mine = officer.locator("section.card", has_text="请说明超期原因并尽快办结")
    mine.get_by_label("督办答复").fill("已加派人手审查，今日办结")
    mine.get_by_role("button", name="提交答复").click()
    expect(flash(officer)).to_contain_text("督办答复已提交。")

    supervisor.reload()
    expect(supervisor.get_by_role("main")).to_contain_text("已加派人手审查，今日办结")
