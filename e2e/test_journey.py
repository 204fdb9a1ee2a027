"""The whole journey in a real browser, as the people involved see it.

A citizen signs in through the live development identity provider and applies online for
个体工商户设立登记; the window clerk accepts the case; the officer of 市场监督管理局 claims and
approves it; the citizen finds the electronic business licence in 我的证照, downloads its PDF
(whose QR code leads to the public verification page) and opens that page; the officer revokes
the licence and the page says so at once; a token changed by one character is shown as forged.
Each person has their own browser context, in Chinese. Then the pages are checked on a phone.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from govservice.identity.devidp.identities import IDENTITIES

ITEM = "个体工商户设立登记"
CITIZEN = next(i for i in IDENTITIES if i["name"] == "张三")
FORM = {
    "个体工商户名称": "北京市朝阳区张三便利店",
    "经营场所": "北京市朝阳区示例路8号",
    "经营范围": "日用百货零售；预包装食品销售",
    "资金数额（万元）": "5",
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

# With is_mobile, Chromium widens the layout viewport to fit content that overflows, so
# window.innerWidth grows with the overflow; compare with the device width instead.
OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth,
  screen: document.documentElement.clientWidth,
  culprits: [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                 || e.scrollWidth > e.clientWidth + 1)
    .map(e => `<${e.tagName.toLowerCase()}> ${e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60)}`),
})"""


def sign_in(page: Page, name: str) -> None:
    """From the home page, through the provider's identity chooser, and back signed in."""
    page.goto("/")
    header = page.get_by_role("banner")
    header.get_by_role("link", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="统一身份认证登录")).to_be_visible()
    page.get_by_role("link", name="通过 开发用身份提供方 登录").click()
    # now on the provider's own page, on another origin
    expect(page.get_by_role("heading", name="开发用身份提供方（仅限开发和测试）")).to_be_visible()
    page.get_by_role("button", name=f"以 {name} 登录").click()
    expect(header.get_by_role("button", name="退出")).to_be_visible()
    expect(header.get_by_role("link", name=name[0] + "*")).to_be_visible()


def take_ticket(new_context) -> str:
    """A number from the hall's ticket machine (取号), in a browser of its own: its number, A001..."""
    kiosk = new_context().new_page()
    kiosk.goto("/window/kiosk/cy-zwfwzx")
    kiosk.get_by_role("button", name="综合窗口取号").click()
    return re.search(r"A\d{3}", kiosk.get_by_role("main").get_by_role("status").inner_text()).group(0)


def field(page: Page, label: str):
    """The form control labelled `label` exactly (a required field's label ends in " *")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def flash(page: Page):
    return page.get_by_role("main").get_by_role("status").first


def verdict(page: Page):
    return page.get_by_role("main").get_by_role("status")


def assert_fits_phone(page: Page, what: str) -> None:
    width = page.evaluate(OVERFLOW)
    assert width["page"] <= width["screen"] + 1 and width["screen"] == PHONE["viewport"]["width"], (
        f"{what} scrolls sideways on a phone: {width['page']}px wide on a {width['screen']}px screen, "
        f"overflowing: {width['culprits']}"
    )


def qr_codes_in(pdf_path, tmp_path) -> list[str]:
    """The texts of the QR codes on the PDF's first page, rendered as a scanner would see it."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf_path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    with Image.open(tmp_path / "page.png") as image:
        results = zxingcpp.read_barcodes(image.convert("L"))
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture(scope="module")
def journey():
    """What the journey leaves behind for the phone checks: URLs and the citizen's session."""
    return {}


def test_apply_accept_approve_verify_revoke(new_context, base_url, screenshot, premises_pdf, tmp_path, journey):
    # 1. the citizen signs in, reads the guide and applies online ---------------------------
    citizen = new_context().new_page()
    sign_in(citizen, "张三")
    citizen.get_by_role("navigation", name="主导航").get_by_role("link", name="办事服务").click()
    citizen.get_by_role("link", name=ITEM).click()
    expect(citizen.get_by_role("heading", name=ITEM, level=1)).to_be_visible()
    expect(citizen.get_by_role("main")).to_contain_text("经营场所使用证明")
    citizen.get_by_role("link", name="在线申请").click()
    expect(citizen.get_by_role("heading", name=f"申请：{ITEM}")).to_be_visible()

    # name and ID number come from the login, and cannot be changed
    operator_name, operator_id = field(citizen, "经营者姓名"), field(citizen, "经营者身份证号码")
    expect(operator_name).to_have_value("张三")
    expect(operator_id).to_have_value(CITIZEN["id_number"])
    expect(operator_name).not_to_be_editable()
    expect(operator_id).not_to_be_editable()

    for label, value in FORM.items():
        field(citizen, label).fill(value)
    field(citizen, "组成形式").select_option("个人经营")
    phone_number = field(citizen, "联系电话")
    assert phone_number.input_value() in ("", CITIZEN["phone_number"])
    if not phone_number.input_value():
        phone_number.fill(CITIZEN["phone_number"])
    field(citizen, "经营场所使用证明").set_input_files(premises_pdf)
    screenshot(citizen, "01-citizen-application-form")
    citizen.get_by_role("button", name="提交申请").click()

    expect(citizen).to_have_url(re.compile(r"/cases/\d{20}\?submitted=new$"))
    expect(citizen.get_by_role("status").first).to_contain_text("申请已提交，办件编号")
    case_url = citizen.url.split("?")[0]
    number = case_url.rsplit("/", 1)[-1]
    journey["case_url"] = case_url
    main = citizen.get_by_role("main")
    expect(main).to_contain_text(number)
    expect(main).to_contain_text("待受理")
    expect(main).to_contain_text("北京市朝阳区张三便利店")
    expect(main.get_by_role("link", name=premises_pdf.name)).to_be_visible()
    assert CITIZEN["id_number"] not in main.inner_text(), "the case page shows the ID number unmasked"
    screenshot(citizen, "02-citizen-case-submitted")

    # the same page on a phone, before any certificate is shown on it
    phone = new_context(storage_state=citizen.context.storage_state(), **PHONE).new_page()
    phone.goto(case_url)
    expect(phone.get_by_role("main")).to_contain_text("待受理")
    screenshot(phone, "02-phone-case-submitted")
    assert_fits_phone(phone, "the submitted case page")
    phone.context.close()

    # 2. the window clerk accepts it ----------------------------------------------------------
    clerk = new_context().new_page()
    sign_in(clerk, "赵敏")
    clerk.get_by_role("link", name="综合窗口").click()
    expect(clerk.get_by_role("heading", name="综合窗口 · 待受理")).to_be_visible()
    clerk.get_by_role("link", name=number).click()
    expect(clerk.get_by_role("main")).to_contain_text("待受理")
    clerk.get_by_role("button", name="受理").click()
    expect(flash(clerk)).to_contain_text(f"已受理办件 {number}，办理时限至 ")
    deadline = DATE.search(flash(clerk).inner_text()).group(0)
    expect(clerk.get_by_role("main")).to_contain_text("暂无待受理的办件。")
    screenshot(clerk, "03-clerk-accepted")

    citizen.reload()
    expect(citizen.get_by_role("main")).to_contain_text("已受理")
    expect(citizen.get_by_role("main")).to_contain_text(deadline)

    # 3. the officer of 市场监督管理局 claims and approves it -------------------------------
    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    officer.get_by_role("link", name="部门审查").click()
    expect(officer.get_by_role("heading", name="部门审查 · 待办")).to_be_visible()
    officer.get_by_role("link", name=number).click()
    officer.get_by_role("button", name="认领审查").click()
    expect(flash(officer)).to_contain_text("已认领")
    officer.get_by_label("审查意见").fill("材料齐全，符合法定形式，准予登记。")
    officer.get_by_label("准予许可").check()
    screenshot(officer, "04-officer-decision")
    officer.get_by_role("button", name="提交结论").click()
    expect(officer.get_by_role("heading", name="部门审查 · 待办")).to_be_visible()
    expect(officer.get_by_role("link", name=number)).to_have_count(0)

    # 4. the citizen sees the result, downloads the licence and opens its verification page ---
    citizen.goto(case_url)
    main = citizen.get_by_role("main")
    expect(main).to_contain_text("已办结")
    result = main.get_by_role("listitem").filter(has_text="营业执照 ·")  # the result by name, not its identifier
    expect(result.get_by_role("link", name="下载")).to_be_visible()
    screenshot(citizen, "05-citizen-case-completed")

    citizen.get_by_role("link", name="我的证照").click()
    licence = citizen.get_by_role("article").filter(has=citizen.get_by_role("heading", name="营业执照"))
    expect(licence).to_have_count(1)
    expect(licence.get_by_role("heading", name="营业执照")).to_contain_text("有效")
    with citizen.expect_download() as download_info:
        licence.get_by_role("link", name="下载PDF").click()
    pdf_path = tmp_path / "licence.pdf"
    download_info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    screenshot(citizen, "06-citizen-wallet")

    licence.get_by_role("link", name="核验页面").click()
    expect(citizen).to_have_url(re.compile(r"/v/[^/]+$"))
    verify_url = citizen.url
    journey["verify_url"] = verify_url
    expect(verdict(citizen)).to_have_text("核验结果：有效")
    main = citizen.get_by_role("main")
    expect(main).to_contain_text("营业执照")
    expect(main).to_contain_text("张*")
    # the registered name and credit code are public (企业信息公示); the operator stays masked
    expect(main).to_contain_text(FORM["个体工商户名称"])
    assert "张三" not in main.inner_text().replace(FORM["个体工商户名称"], "")
    assert CITIZEN["id_number"] not in citizen.content()
    screenshot(citizen, "07-verify-valid")

    # the licence's printed QR code leads to the verification page too (a short signed
    # reference, certificates/shortref.py, apart from the wallet's token, which also binds the
    # PDF's hash); anybody who scans it may open it
    scanned_url = verify_url
    if shutil.which("pdftoppm"):
        [scanned_url] = qr_codes_in(pdf_path, tmp_path)
        assert re.fullmatch(
            re.escape(base_url) + r"/r/[a-z0-9]+\.[a-z0-9_-]+(\.[0-9A-Z]+){2}\.[A-Za-z0-9_-]{3}"
            r"\.[A-Za-z0-9_-]{86}",
            scanned_url,
        )
    public = new_context().new_page()
    public.goto(scanned_url)
    expect(verdict(public)).to_have_text("核验结果：有效")
    expect(public.get_by_role("main")).to_contain_text("张*")
    assert CITIZEN["id_number"] not in public.content()
    assert "张三" not in public.content().replace(FORM["个体工商户名称"], "")

    # 5. the officer revokes it; the verification page says so at once -----------------------
    officer.get_by_role("link", name="已发证照").click()
    issued = officer.get_by_role("article").filter(has=officer.get_by_role("heading", name="营业执照"))
    expect(issued).to_have_count(1)
    expect(issued.get_by_role("heading", name="营业执照")).to_contain_text("有效")
    issued.get_by_label("吊销原因").fill("以欺骗手段取得登记")
    issued.get_by_role("button", name="吊销").click()
    # the consequence is spelled out before anything is done
    expect(officer.get_by_role("heading", name="确认前请了解后果")).to_be_visible()
    expect(officer.get_by_role("main")).to_contain_text("吊销不能恢复")
    officer.get_by_role("button", name="确认吊销").click()
    expect(flash(officer)).to_contain_text("已吊销")
    expect(issued.get_by_role("heading", name="营业执照")).to_contain_text("已吊销")
    screenshot(officer, "08-officer-revoked")

    citizen.reload()
    expect(verdict(citizen)).to_have_text("核验结果：已吊销")
    screenshot(citizen, "09-verify-revoked")
    public.goto(scanned_url)
    expect(verdict(public)).to_have_text("核验结果：已吊销")

    # 6. a token changed by one character, in its middle, is recognised as forged -------------
    prefix, token = verify_url.rsplit("/", 1)
    middle = len(token) // 2
    while not token[middle].isalnum():
        middle += 1
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = public.goto(f"{prefix}/{tampered}")
    assert response is not None and response.status == 404
    expect(verdict(public)).to_have_text("核验结果：无效（伪造或被篡改）")
    expect(public.get_by_role("main")).not_to_contain_text("张*")
    screenshot(public, "10-verify-tampered")

    journey["citizen_state"] = citizen.context.storage_state()


# The pages people open on a phone must not scroll sideways. The certificate identifier
# (e.g. 1.2.156.3005.2.XSCJGJ001.11110105MB0000001C.0000000001.001.U) is one unbreakable
# string of ~60 characters, wider than a phone screen wherever it is shown without a
# break opportunity.
PHONE_PAGES = [
    pytest.param("case_url", "11-phone-case-completed", id="case-page"),
    pytest.param("verify_url", "12-phone-verify-page", id="verify-page"),
]


@pytest.mark.parametrize(("url_key", "shot"), PHONE_PAGES)
def test_page_with_certificate_fits_a_phone(new_context, screenshot, journey, url_key, shot):
    if "citizen_state" not in journey:
        pytest.skip("the journey did not complete")
    phone = new_context(storage_state=journey["citizen_state"], **PHONE).new_page()
    phone.goto(journey[url_key])
    expect(phone.get_by_role("main")).to_contain_text("1.2.156.3005.2.")
    screenshot(phone, shot)
    assert_fits_phone(phone, journey[url_key])


def test_a_script_the_page_did_not_bring_is_refused_and_reported(browser, base_url):
    """The check every e2e test makes (no violation reported, see conftest.new_context) can
    fail: an injected inline script, without the response's nonce, is refused and reported."""
    from .conftest import REPORT_CSP

    context = browser.new_context(base_url=base_url)  # not new_context: this page violates on purpose
    try:
        context.add_init_script(REPORT_CSP)
        page = context.new_page()
        response = page.goto("/")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        with page.expect_console_message(lambda m: "CSP violation: script-src" in m.text):
            page.evaluate("""() => { const s = document.createElement('script');
                                      s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.__injected") is None
    finally:
        context.close()
