"""一件事一次办 in a real browser, with the demo logins: 吴芳 (level 1, she steps up to 2) applies for 开办个体餐饮店 with one
form (the phone and the premises asked once, no copy of a business licence she does not have yet);
赵敏 accepts the bundle once at the window; 刘洋 approves the business registration; the food
licence is then filed with the new 营业执照 as its material and accepted at once, and 吴芳 follows
both on one progress page. (It issues a 营业执照 of 市场监督管理局: it runs after the journey, which
counts that department's issued licences.)"""  # noqa: E501

from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_journey import field, flash, sign_in

FORM = {
    "个体工商户名称": "北京市朝阳区吴芳面馆",
    "经营场所": "北京市朝阳区示例路18号",
    "经营范围": "小餐饮",
    "资金数额（万元）": "6",
    "联系电话": "13800000012",
    "经营项目": "热食类食品制售",
    "食品安全管理人员": "吴芳",
    "经营面积（平方米）": "35",
}


def test_a_bundle_is_applied_for_once_accepted_once_and_followed_on_one_page(new_context, premises_pdf, screenshot):
    citizen = new_context().new_page()
    sign_in(citizen, "吴芳")
    citizen.goto("/")
    citizen.get_by_role("link", name=re.compile("^一件事一次办")).click()
    citizen.get_by_role("link", name="在线申请“开办个体餐饮店”").click()
    expect(citizen.get_by_role("heading", name="提升认证等级")).to_be_visible()  # the food licence needs level 2
    citizen.get_by_role("link", name="通过 开发用身份提供方 重新认证").click()
    citizen.get_by_role("button", name="以 吴芳 登录").click()
    expect(citizen.get_by_role("heading", name="一件事申请：开办个体餐饮店")).to_be_visible()
    expect(citizen.get_by_label(re.compile("^联系电话"))).to_have_count(1)
    expect(citizen.get_by_label(re.compile("^营业执照"))).to_have_count(0)
    for label, value in FORM.items():
        field(citizen, label).fill(value)
    field(citizen, "组成形式").select_option("个人经营")
    field(citizen, "主体业态").select_option("餐饮服务经营者")
    field(citizen, "经营场所使用证明").set_input_files(premises_pdf)
    field(citizen, "主要设备设施、经营布局、操作流程等文件").set_input_files(premises_pdf)
    field(citizen, "保证食品安全的规章制度目录清单").set_input_files(premises_pdf)
    citizen.get_by_role("button", name="提交“一件事”申请").click()
    expect(flash(citizen)).to_contain_text("“开办个体餐饮店”已提交")
    progress = citizen.get_by_role("table")
    expect(progress).to_contain_text("等待前置事项办结")
    number = re.search(r"\d{20}", progress.get_by_role("row").nth(1).inner_text()).group(0)
    progress_url = citizen.url

    clerk = new_context().new_page()
    sign_in(clerk, "赵敏")
    clerk.goto(f"/window/cases/{number}")
    clerk.get_by_role("link", name="一次受理全部办件").click()
    clerk.get_by_role("button", name="一次受理").click()
    expect(flash(clerk)).to_contain_text(f"已一次受理 1 件：{number}")

    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    officer.get_by_role("link", name="部门审查").click()
    officer.get_by_role("link", name=number).click()
    officer.get_by_role("button", name="认领审查").click()
    officer.get_by_label("审查意见").fill("符合登记条件")
    officer.get_by_label("准予许可").check()
    officer.get_by_role("button", name="提交结论").click()
    expect(flash(officer)).to_contain_text("审查结论已提交。")

    citizen.goto(progress_url)
    rows = citizen.get_by_role("table").get_by_role("row")
    expect(rows.nth(1)).to_contain_text("已办结")
    expect(rows.nth(2)).to_contain_text("食品经营许可")
    expect(rows.nth(2)).to_contain_text("已受理")
    expect(rows.nth(2)).to_contain_text("市场监督管理局")
    screenshot(citizen, "83-bundle-progress")
    rows.nth(2).get_by_role("link").click()
    expect(citizen.get_by_role("main")).to_contain_text("北京市朝阳区吴芳面馆")
