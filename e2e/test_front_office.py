"""The front office in a real browser: finding a service in Chinese, reading its guide, and
applying with a form that fills itself from the base registries and takes a certificate the
applicant already holds in place of a paper material (免提交) — once as a person, once for a
business (the legal representative acting for the enterprise).

李娜 (from Guangzhou, living in Beijing) holds a 居住证 and registers for social insurance as a
flexibly employed person; 王五 switches to acting for 北京朝阳示例餐饮有限公司 and applies to
change its 食品经营许可证, offering the licence it holds. Each then follows the case on 我的办件
and finds the notice in 消息.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from govservice.certificates.samples import SAMPLES
from govservice.core.extensions import db

from .conftest import platform_app
from .test_journey import PHONE, assert_fits_phone, field, sign_in

RESTAURANT_USCC = "91110105MA01EFGH30"
RESTAURANT = "北京朝阳示例餐饮有限公司"


@pytest.fixture(scope="module")
def platform(instance_dir, database_url, idp_url, base_url):
    """The same platform as the live server (same database and keys), for arranging held
    certificates the way issuance would have left them."""
    app = platform_app(instance_dir, database_url, idp_url, base_url)
    yield app
    with app.app_context():
        db.engine.dispose()


def _ensure_certificate(platform, id_number: str, type_code: str, data: dict, *, uscc: str | None = None) -> str:
    """The identifier of a valid certificate of `type_code` the person (or their enterprise) holds;
    issued now if the demo data did not already put one in the wallet."""
    from govservice.certificates import services as certificates
    from govservice.identity import enterprises
    from govservice.identity.services import find_person

    with platform.app_context():
        holder = find_person(id_number)
        enterprise = enterprises.by_credit_code(uscc) if uscc else None
        for certificate in certificates.usable_certificates(holder, {type_code}):
            if certificate.holder_enterprise_id == (enterprise.id if enterprise else None):
                return certificate.identifier
        identifier = certificates.issue(type_code, holder, data, enterprise=enterprise).identifier
        db.session.remove()
        return identifier


def _source(page: Page, label: str):
    """The '来源：…' line of the field labelled `label`."""
    return page.locator(
        f"xpath=//label[starts-with(normalize-space(.), '{label}')]/following-sibling::p[@class='source'][1]"
    )


def test_a_person_applies_with_prefill_and_a_held_residence_permit(new_context, platform, screenshot):
    page = new_context().new_page()
    sign_in(page, "李娜")
    permit = _ensure_certificate(platform, "440106199507200025", "jzz", SAMPLES["jzz"])

    # finding the service in everyday words
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="办事服务").click()
    page.get_by_label("搜索事项").fill("我想自己交社保")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="灵活就业人员参保登记").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("《中华人民共和国社会保险法》第十条、第二十三条、第五十八条")
    expect(main).to_contain_text("持有居住证电子证照的免提交")
    page.get_by_role("link", name="在线申请").click()
    expect(page.get_by_role("heading", name="申请：灵活就业人员参保登记")).to_be_visible()

    # pre-filled from the login and the population registry, with the source shown, read-only
    expect(field(page, "姓名")).to_have_value("李娜")
    expect(field(page, "户籍地址")).to_have_value("广东省广州市天河区天河路100号")
    expect(field(page, "户籍地址")).not_to_be_editable()
    expect(field(page, "出生日期")).to_have_value("1995-07-20")
    expect(field(page, "户口性质")).to_have_value("外埠城镇")
    expect(_source(page, "户籍地址")).to_have_text("来源：人口基础信息库（不可修改）")

    # the 居住证 she holds stands in for the paper copy
    page.get_by_label(f"使用我的电子证照（免提交）：居住证 {permit}").check()
    field(page, "就业形式").select_option("新就业形态从业人员")
    field(page, "参保险种").select_option("养老、医疗")
    field(page, "缴费基数（元/月）").fill("7000")
    field(page, "参保起始日期").fill("2026-12-01")
    field(page, "居住地址").fill("北京市朝阳区示例东路6号院3号楼502室")
    if not field(page, "联系电话").input_value():
        field(page, "联系电话").fill("13800000002")
    screenshot(page, "21-person-form-prefilled")
    page.get_by_role("button", name="提交申请").click()

    expect(page).to_have_url(re.compile(r"/cases/\d{20}\?submitted=new$"))
    expect(page.get_by_role("status").first).to_contain_text("申请已提交，办件编号")
    case_url = page.url.split("?")[0]
    main = page.get_by_role("main")
    expect(main).to_contain_text("待受理")
    expect(main).to_contain_text("以电子证照代替的材料（免提交）")
    expect(main).to_contain_text(permit)
    expect(main).to_contain_text("来源：人口基础信息库")
    expect(main).to_contain_text("综合窗口受理")
    screenshot(page, "22-person-case-submitted")

    # the notice waits in 消息, and the case is on 我的办件
    nav = page.get_by_role("navigation", name="主导航")
    # (the demo's 居住证 reached her 消息 when it was issued, so the badge counts more than this one)
    expect(nav.get_by_role("link", name=re.compile(r"^消息"))).to_contain_text(re.compile(r"\d+"))
    nav.get_by_role("link", name=re.compile(r"^消息")).click()
    expect(page.get_by_role("main")).to_contain_text("已提交")
    nav.get_by_role("link", name="我的办件").click()
    expect(page.get_by_role("main")).to_contain_text("灵活就业人员参保登记")

    phone = new_context(storage_state=page.context.storage_state(), **PHONE).new_page()
    phone.goto("/apply/rsj-lhjy-cbdj")
    expect(phone.get_by_role("heading", name="申请：灵活就业人员参保登记")).to_be_visible()
    assert_fits_phone(phone, "the application form")
    screenshot(phone, "23-phone-application-form")
    phone.goto(case_url)
    expect(phone.get_by_role("main")).to_contain_text("当前进度")
    assert_fits_phone(phone, "the case page with its progress")

    # before acceptance she may still withdraw it (which leaves the window's queue as it was)
    page.goto(case_url)
    page.get_by_role("button", name="撤回申请").click()
    expect(page.get_by_role("main")).to_contain_text("申请已撤回。")


def test_a_business_applies_with_registry_data_and_its_held_licence(new_context, platform, screenshot):
    page = new_context().new_page()
    sign_in(page, "王五")
    licence = _ensure_certificate(
        platform,
        "110108197802151518",
        "spjyxkz",
        dict(
            SAMPLES["spjyxkz"],
            business_name=RESTAURANT,
            credit_code=RESTAURANT_USCC,
            supervising_authority="北京市朝阳区市场监督管理局",
            complaint_hotline="12315",
        ),
        uscc=RESTAURANT_USCC,
    )

    # 办事身份: act for the enterprise, as its legal representative
    header = page.get_by_role("banner")
    header.get_by_text("办事身份：本人").click()  # the switch is folded into the header
    header.get_by_label("办事身份").select_option(label=f"{RESTAURANT}（法定代表人）")
    header.get_by_role("button", name="切换").click()
    expect(page.get_by_role("main")).to_contain_text(f"您现在代表“{RESTAURANT}”办事")

    page.goto("/items/?audience=enterprise")
    page.get_by_role("link", name="食品经营许可变更").click()
    page.get_by_role("link", name="在线申请").click()
    expect(page.get_by_role("main")).to_contain_text(f"申请主体：{RESTAURANT}")
    expect(field(page, "经营者名称")).to_have_value(RESTAURANT)
    expect(field(page, "统一社会信用代码")).to_have_value(RESTAURANT_USCC)
    expect(field(page, "经营者名称")).not_to_be_editable()
    expect(_source(page, "经营者名称")).to_have_text("来源：法人基础信息库（不可修改）")
    expect(field(page, "变更后住所")).to_have_value("北京市朝阳区示例路20号1层101")

    page.get_by_label(f"使用我的电子证照（免提交）：食品经营许可证 {licence}").check()
    field(page, "原许可证编号").fill("JY21101050098765")
    field(page, "变更事项").select_option("经营项目")
    field(page, "经营场所").fill("北京市朝阳区示例路20号1层101")
    field(page, "主体业态").select_option("餐饮服务经营者")
    field(page, "变更后经营项目").fill("热食类食品制售；冷食类食品制售")
    field(page, "变更原因").fill("增加冷食类食品制售")
    if not field(page, "联系电话").input_value():
        field(page, "联系电话").fill("13800000003")

    # a wrong file for the other material is refused with the reason, and nothing is lost
    page.get_by_label("与变更事项有关的材料").set_input_files(
        files=[{"name": "decision.pdf", "mimeType": "application/pdf", "buffer": b"MZ this is not a PDF"}]
    )
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("main")).to_contain_text("文件类型不符合要求")
    expect(field(page, "变更原因")).to_have_value("增加冷食类食品制售")

    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    sheet.drawString(72, 720, "Shareholders' resolution")
    sheet.save()
    page.get_by_label("与变更事项有关的材料").set_input_files(
        files=[{"name": "resolution.pdf", "mimeType": "application/pdf", "buffer": buffer.getvalue()}]
    )
    page.get_by_label(f"使用我的电子证照（免提交）：食品经营许可证 {licence}").check()
    screenshot(page, "24-business-form-prefilled")
    page.get_by_role("button", name="提交申请").click()

    expect(page).to_have_url(re.compile(r"/cases/\d{20}\?submitted=new$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("待受理")
    expect(main).to_contain_text(licence)
    expect(main).to_contain_text("来源：法人基础信息库")
    expect(main.get_by_role("link", name="resolution.pdf")).to_be_visible()
    screenshot(page, "25-business-case-submitted")
    page.get_by_role("button", name="撤回申请").click()  # leave the window's queue as it was
    expect(page.get_by_role("main")).to_contain_text("申请已撤回。")
