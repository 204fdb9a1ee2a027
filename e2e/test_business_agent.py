"""A business agent (经办人) in a real browser: 钱七 signs in through the live development
provider, switches "办事身份" to the enterprise he is authorised for, and every page says so;
then the legal representative 王五 revokes the authorisation, and 钱七's very next page tells
him that acting for the enterprise has ended. The switch is checked on a phone too."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

ENTERPRISE = "北京示例科技有限公司"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
FITS = """() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"""


def sign_in(page: Page, name: str) -> None:
    page.goto("/")
    header = page.get_by_role("banner")
    header.get_by_role("link", name="登录", exact=True).click()
    page.get_by_role("link", name="通过 开发用身份提供方 登录").click()
    expect(page.get_by_role("heading", name="开发用身份提供方（仅限开发和测试）")).to_be_visible()
    page.get_by_role("button", name=f"以 {name} 登录").click()
    expect(header.get_by_role("link", name=name[0] + "*")).to_be_visible()


def banner(page: Page):
    return page.locator(".acting-banner")


def test_agent_switches_to_the_enterprise_and_is_stopped_when_revoked(new_context, screenshot):
    agent = new_context().new_page()
    sign_in(agent, "钱七")
    header = agent.get_by_role("banner")
    switch = header.get_by_label("办事身份")
    expect(switch).to_have_value("")  # acting as himself after signing in
    expect(banner(agent)).to_have_count(0)

    header.get_by_text("办事身份：本人").click()  # the switch is folded: the header stays one line
    switch.select_option(label=f"{ENTERPRISE}（经办人）")
    header.get_by_role("button", name="切换").click()
    expect(agent.get_by_role("main").get_by_role("status").first).to_contain_text(
        f"您现在代表“{ENTERPRISE}”办事（经办人）。"
    )
    expect(banner(agent)).to_have_count(0)  # one notice, not a second banner beside it (issue 13)
    expect(header).to_contain_text(f"办事身份：{ENTERPRISE}")
    agent.reload()
    expect(banner(agent)).to_have_text(f"您正在代表“{ENTERPRISE}”办事（经办人）。")
    expect(header.get_by_label("办事身份")).to_have_value(re.compile(r"^\d+$"))
    screenshot(agent, "13-agent-acting-for-enterprise")

    # every page says for whom he acts; 我的企业 shows the grant
    agent.get_by_role("navigation", name="主导航").get_by_role("link", name="我的企业").click()
    main = agent.get_by_role("main")
    expect(main.get_by_role("heading", name="我的企业")).to_be_visible()
    expect(main).to_contain_text(ENTERPRISE)
    expect(main).to_contain_text("正在代表")
    expect(banner(agent)).to_be_visible()

    # on a phone the switch and the banner fit the screen
    phone = new_context(storage_state=agent.context.storage_state(), **PHONE).new_page()
    phone.goto("/enterprise/")
    expect(banner(phone)).to_be_visible()
    assert phone.evaluate(FITS), "the acting-as switch makes the page scroll sideways on a phone"
    screenshot(phone, "14-phone-agent-acting")

    # the legal representative revokes the grant
    representative = new_context().new_page()
    sign_in(representative, "王五")
    representative.goto("/enterprise/")
    representative.get_by_role("row", name=re.compile(ENTERPRISE)).get_by_role("link", name="管理经办人").click()
    expect(representative.get_by_role("heading", name="经办人管理")).to_be_visible()
    representative.get_by_role("button", name="撤销 钱* 的授权").click()
    expect(representative.get_by_role("main").get_by_role("status").first).to_contain_text(
        "已撤销 钱* 的经办授权，立即生效。"
    )
    expect(representative.get_by_role("main")).to_contain_text("已撤销")
    screenshot(representative, "15-representative-revoked-agent")

    # the agent's very next page: acting for the enterprise has ended, nothing was done
    agent.reload()
    expect(agent.get_by_role("heading", name="代表企业办事已结束")).to_be_visible()
    expect(agent.get_by_role("main")).to_contain_text("本次操作未执行")
    screenshot(agent, "16-agent-grant-revoked")
    agent.get_by_role("link", name="返回首页").click()
    expect(banner(agent)).to_have_count(0)
    expect(agent.get_by_role("banner").get_by_label("办事身份")).to_have_count(0)  # no enterprise left to act for
