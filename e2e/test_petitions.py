"""网上信访 in a real browser, with the demo logins: 周杰 complains online (agreeing to publication),
刘洋 (市场监督管理局) accepts and answers it, 周杰 rates the answer, and anyone reads it on the public
page; 孙强 sees the statistics."""

from __future__ import annotations

from playwright.sync_api import expect

from .test_journey import flash, sign_in


def test_a_complaint_is_accepted_answered_rated_and_published(new_context, screenshot):
    citizen = new_context().new_page()
    sign_in(citizen, "周杰")
    citizen.goto("/")
    citizen.get_by_role("link", name="网上信访 投诉、建议、求助、咨询，限期受理答复").click()
    citizen.get_by_label("诉求类型").select_option("complaint")
    citizen.get_by_label("受理部门").select_option("scjgj")
    citizen.get_by_label("标题").fill("夜市摊点占道经营")
    citizen.get_by_role("button", name="提交诉求").click()
    expect(citizen.get_by_role("main").get_by_role("alert")).to_contain_text("请填写诉求内容。")
    expect(citizen.get_by_label("标题")).to_have_value("夜市摊点占道经营")
    citizen.get_by_label("诉求内容").fill("示例路夜市摊点占用人行道，行人只能走机动车道。")
    citizen.get_by_label("同意在办结后公开诉求和答复（不公开本人信息）").check()
    citizen.get_by_role("button", name="提交诉求").click()
    expect(flash(citizen)).to_contain_text("诉求已提交，编号 XF")
    number = citizen.url.rsplit("/", 1)[-1]

    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    officer.get_by_role("link", name="诉求办理").click()
    officer.get_by_role("link", name=number).click()
    officer.get_by_role("button", name="受理", exact=True).click()
    expect(flash(officer)).to_contain_text("已受理。")
    officer.get_by_label("答复意见").fill("已会同城管部门清理占道摊点，设置夜市限时经营区域。")
    officer.get_by_label("公开诉求和答复（诉求人已同意）").check()
    officer.get_by_role("button", name="答复", exact=True).click()
    expect(flash(officer)).to_contain_text("已答复。")

    citizen.reload()
    expect(citizen.get_by_role("main")).to_contain_text("已会同城管部门清理占道摊点")
    citizen.get_by_label("5 分").check()
    citizen.get_by_role("button", name="提交评价").click()
    expect(flash(citizen)).to_contain_text("感谢您的评价。")

    visitor = new_context().new_page()
    visitor.goto("/petitions/published")
    expect(visitor.get_by_role("main")).to_contain_text("夜市摊点占道经营")
    expect(visitor.get_by_role("main")).not_to_contain_text("周")
    screenshot(visitor, "84-petitions-published")

    supervisor = new_context().new_page()
    sign_in(supervisor, "孙强")
    supervisor.get_by_role("link", name="电子监察").click()
    supervisor.get_by_role("link", name="诉求统计").click()
    expect(supervisor.get_by_role("table", name="诉求按类型")).to_contain_text("投诉")
