"""Front of house (issue 13) in a real browser, axe-core checking every page on the way:

a visitor searches from the home page with a typo and is asked "您是不是要找…"; anyone follows a
case with its number and 查询码 without signing in, on a phone; the clerk lands on the window
console, works the counter by keyboard (Alt+N, Alt+I, Alt+A), sees the walk-in's open cases and
files 灵活就业人员参保登记 with the registry's values filled in (for a walk-in the registry knows); the officer reads the evidence
first and must confirm a refusal whose consequence is spelled out.
"""  # noqa: E501

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from govservice.cases import services as cases
from govservice.cases.uploads import Upload
from govservice.catalog import services as catalog
from govservice.core.extensions import db
from govservice.identity.services import find_person, person_for
from govservice.progress import services as progress
from govservice.registry import devdata

from .conftest import axe_violations, platform_app
from .test_journey import PHONE, assert_fits_phone, field, flash, sign_in, take_ticket

# A walk-in the development population registry knows (a generated person, not a demo login, so
# that the other browser tests' people keep their own queues and 消息).
WALK_IN = devdata.generate_people(1)[0]


@pytest.fixture(scope="module")
def accepted(base_url, instance_dir, database_url, idp_url, premises_pdf):
    """An accepted online case of the walk-in (个体工商户设立登记) in the live server's database:
    its number and 查询码."""
    app = platform_app(instance_dir, database_url, idp_url, base_url)
    with app.app_context():
        applicant = person_for(WALK_IN.id_number, WALK_IN.name)
        db.session.commit()
        answers = {
            "operator_name": WALK_IN.name,
            "operator_id_number": WALK_IN.id_number,
            "business_name": "北京市朝阳区示例花店",
            "composition": "个人经营",
            "address": "北京市朝阳区示例路30号",
            "scope": "鲜花零售",
            "capital": "0",
            "phone": "13800000002",
        }
        lease = Upload("premises", premises_pdf.name, premises_pdf.read_bytes())
        case, _ = cases.submit_application(
            applicant, catalog.current_item("scjgj-gtgsh-sldj"), answers, [lease], uuid.uuid4().hex
        )
        case = cases.accept(case.id, find_person("110101198808081231"), case.version)
        found = {"number": case.number, "code": progress.query_code(case.number)}
        db.session.remove()
        db.engine.dispose()
    return found


def test_search_first_with_did_you_mean_on_desktop_and_phone(new_context):
    for options in ({}, PHONE):
        page = new_context(**options).new_page()
        page.goto("/")
        search = page.get_by_role("search")
        expect(search).to_be_visible()
        search.get_by_label("搜索办事事项").fill("营业只照")
        search.get_by_label("搜索办事事项").press("Enter")
        expect(page.get_by_role("main").get_by_role("status")).to_contain_text("您是不是要找：营业执照")
        expect(page.get_by_role("link", name="个体工商户设立登记")).to_be_visible()
        if options:
            assert_fits_phone(page, "the search results")
    page.goto("/")
    expect(page.get_by_role("heading", name="个人办事")).to_be_visible()
    expect(page.get_by_role("heading", name="法人办事")).to_be_visible()
    page.get_by_role("link", name="进度查询").click()
    expect(page.get_by_role("heading", name="办件进度查询")).to_be_visible()


def test_progress_by_number_and_code_without_signing_in_on_a_phone(new_context, accepted):
    page = new_context(**PHONE).new_page()
    page.goto("/progress/")
    page.get_by_label("办件编号").fill(accepted["number"])
    page.get_by_label("查询码").fill("WRONG123")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_have_text("办件编号或查询码不正确，请核对受理通知书上的编号和查询码。")
    assert axe_violations(page) == []  # the form with its error, as shown
    page.get_by_label("查询码").fill(accepted["code"].lower())
    page.get_by_role("button", name="查询").click()
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="个体工商户设立登记")).to_be_visible()
    expect(main).to_contain_text("综合窗口受理")
    text = main.inner_text()
    masked = WALK_IN.name[0] + "*"
    assert WALK_IN.name not in text and masked not in text and WALK_IN.id_number not in text and "花店" not in text
    assert_fits_phone(page, "the progress look-up")


def test_the_clerk_works_the_counter_by_keyboard_and_files_a_registry_prefilled_item(new_context, accepted):
    ticket = take_ticket(new_context)

    clerk = new_context().new_page()
    sign_in(clerk, "赵敏")
    expect(clerk).to_have_url(re.compile(r"/window/$"))  # staff land on their console
    expect(clerk.get_by_role("main")).to_contain_text(ticket)
    clerk.wait_for_load_state()
    clerk.keyboard.press("Alt+n")  # 叫下一位
    expect(clerk.get_by_role("heading", name=re.compile(r"^A\d{3} 号$"))).to_be_visible()
    clerk.wait_for_load_state()
    clerk.keyboard.press("Alt+i")  # to the ID number
    expect(clerk.get_by_label("申请人身份证号码")).to_be_focused()
    clerk.keyboard.type(WALK_IN.id_number)
    clerk.keyboard.press("Enter")
    expect(flash(clerk)).to_contain_text(f"已核验申请人身份：{WALK_IN.name}。")
    open_cases = clerk.get_by_role("region", name="该申请人正在办理的办件")
    expect(open_cases.get_by_role("link", name=accepted["number"])).to_be_visible()

    picker = clerk.get_by_label("事项", exact=True)
    expect(picker).to_have_value("")  # no silent default
    picker.select_option(label="灵活就业人员参保登记（人力资源和社会保障局）")
    clerk.get_by_role("button", name="收件", exact=True).click()
    expect(field(clerk, "出生日期")).to_have_value(WALK_IN.birth_date)
    expect(field(clerk, "出生日期")).not_to_be_editable()
    expect(field(clerk, "户籍地址")).not_to_have_value("")
    expect(field(clerk, "性别")).to_be_disabled()
    field(clerk, "就业形式").select_option("其他灵活就业人员")
    field(clerk, "参保险种").select_option("养老、医疗")
    field(clerk, "缴费基数（元/月）").fill("6821")
    field(clerk, "参保起始日期").fill("2026-12-01")
    field(clerk, "居住地址").fill("北京市朝阳区示例东路6号院")
    field(clerk, "联系电话").fill("13800000002")
    clerk.get_by_role("button", name="收件并预审").click()
    expect(flash(clerk)).to_contain_text("已收件，办件编号")
    main = clerk.get_by_role("main")
    assert main.inner_text().index("申请信息") < main.inner_text().index("预审结论")  # evidence first
    clerk.wait_for_load_state()
    clerk.keyboard.press("Alt+a")  # 受理
    expect(flash(clerk)).to_contain_text("已受理办件")


def test_the_officer_reads_the_evidence_first_and_confirms_a_refusal(new_context, accepted):
    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    expect(officer).to_have_url(re.compile(r"/review/$"))
    officer.get_by_role("link", name=accepted["number"]).click()
    expect(officer.get_by_role("button", name="认领审查")).to_be_visible()
    officer.wait_for_load_state()  # shortcuts.js is deferred
    officer.keyboard.press("Alt+c")  # 认领审查
    expect(flash(officer)).to_contain_text("已认领")
    text = officer.get_by_role("main").inner_text()
    assert text.index("申请材料") < text.index("审查决定") < text.index("提交结论")
    officer.wait_for_load_state()
    officer.keyboard.press("Alt+o")
    expect(officer.locator("#opinion")).to_be_focused()
    officer.keyboard.type("经营场所与登记住所不一致。")
    officer.get_by_label("不予许可").check()
    officer.get_by_role("button", name="提交结论").click()
    expect(officer.get_by_role("heading", name="确认前请了解后果")).to_be_visible()
    expect(officer.get_by_role("main")).to_contain_text("提交后不能撤回或修改。")
    officer.get_by_role("button", name="确认不予许可").click()
    expect(flash(officer)).to_contain_text("审查结论已提交。")
