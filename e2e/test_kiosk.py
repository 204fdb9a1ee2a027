"""自助终端 in a real browser: 郑华 (administrator) registers a terminal and it is enrolled with the
code; at the terminal 张三 signs in with his ID card on the (development) reader, applies for
灵活就业人员参保登记, prints the receipt and signs out, and going back shows nothing of his; 李娜
signs in next, is warned after 45 seconds without a touch, carries on, and is signed out by the
terminal once a minute passes."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_journey import sign_in


def test_a_terminal_is_enrolled_used_and_left_clean(new_context, screenshot):
    admin = new_context().new_page()
    sign_in(admin, "郑华")
    admin.goto("/admin/kiosks")
    admin.get_by_label("终端名称").fill("一层大厅 2号机")
    admin.get_by_label("服务大厅").select_option(label="朝阳区政务服务中心")
    admin.get_by_role("button", name="登记", exact=True).click()
    code = admin.get_by_role("main").get_by_role("status").locator("strong").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)

    terminal = new_context(viewport={"width": 1080, "height": 1920}).new_page()  # a portrait touch screen
    terminal.clock.install()
    terminal.goto("/kiosk/")
    expect(terminal.get_by_role("heading", name=re.compile("启用自助服务终端"))).to_be_visible()
    terminal.get_by_label(re.compile("启用码")).fill("AAAA-BBBB-CCCC")
    terminal.get_by_role("button", name="启用").click()
    expect(terminal.get_by_role("main")).to_contain_text("启用码无效或已过期")
    terminal.get_by_label(re.compile("启用码")).fill(code)
    terminal.get_by_role("button", name="启用").click()
    expect(terminal.get_by_role("main").get_by_role("status")).to_contain_text("终端“一层大厅 2号机”已启用。")
    expect(terminal.get_by_role("banner")).to_contain_text("一层大厅 2号机")
    screenshot(terminal, "90-kiosk-welcome")

    terminal.get_by_role("button", name=re.compile("张三 110105\\*+0035 有效期至 \\d+-\\d+-\\d+$")).click()
    expect(terminal.get_by_role("heading", name=re.compile("张\\*，您好"))).to_be_visible()
    terminal.get_by_role("link", name=re.compile("办理事项")).click()
    terminal.get_by_role("link", name=re.compile("灵活就业人员参保登记")).click()
    expect(terminal.get_by_label(re.compile("公民身份号码"))).to_have_value("110105198802150035")
    terminal.get_by_label(re.compile("就业形式")).select_option("其他灵活就业人员")
    terminal.get_by_label(re.compile("参保险种")).select_option("养老、医疗")
    terminal.get_by_label(re.compile("缴费基数")).fill("8000")
    terminal.get_by_label(re.compile("参保起始日期")).fill("2026-12-01")
    terminal.get_by_label(re.compile("居住地址")).fill("北京市朝阳区示例路8号")
    terminal.get_by_label(re.compile("联系电话")).fill("13800000001")
    terminal.get_by_role("button", name=re.compile("提交申请")).click()
    expect(terminal.get_by_role("main").get_by_role("status").first).to_contain_text("申请已提交，办件编号")
    number = terminal.url.split("?")[0].rsplit("/", 1)[-1]
    terminal.get_by_role("link", name=re.compile("打印回执")).click()
    receipt = terminal.get_by_role("article", name="申请回执")
    expect(receipt).to_contain_text(number)
    expect(receipt).to_contain_text("查询码")
    expect(receipt.get_by_role("img", name="扫码查询办理进度")).to_be_visible()
    screenshot(terminal, "91-kiosk-receipt")

    terminal.get_by_role("banner").get_by_role("button", name=re.compile("退出")).click()
    expect(terminal.get_by_role("heading", name=re.compile("请刷身份证登录"))).to_be_visible()
    terminal.go_back()  # the receipt is not served again from the cache, nor by the server
    expect(terminal.get_by_role("heading", name=re.compile("请刷身份证登录"))).to_be_visible()
    expect(terminal.get_by_role("main")).not_to_contain_text(number)
    terminal.goto("/kiosk/cases")
    expect(terminal.get_by_role("main")).to_contain_text("请先刷身份证登录。")

    terminal.get_by_role("button", name=re.compile("^李娜")).click()
    expect(terminal.get_by_role("heading", name=re.compile("李\\*，您好"))).to_be_visible()
    terminal.clock.run_for(46_000)
    dialog = terminal.get_by_role("dialog", name="您还在使用吗？")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=re.compile("继续使用")).click()
    expect(dialog).to_be_hidden()
    expect(terminal.get_by_role("heading", name=re.compile("李\\*，您好"))).to_be_visible()
    terminal.clock.run_for(61_000)
    expect(terminal.get_by_role("heading", name=re.compile("请刷身份证登录"))).to_be_visible()
    expect(terminal.get_by_role("main").get_by_role("status")).to_contain_text("您长时间未操作，已自动退出。")
    expect(terminal.get_by_role("main")).not_to_contain_text("李*")

    admin.reload()
    expect(admin.get_by_role("table")).to_contain_text("使用中")
