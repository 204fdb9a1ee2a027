"""The single window and the joint workflow in a real browser.

A citizen takes a number at the hall's machine; the clerk calls it, identifies 李娜 by her ID
number against the population registry, files a joint item (并联: 市场监督管理局 and
卫生健康委员会) for her with a material missing, and issues the 一次性告知书; 李娜 answers it
online; the clerk accepts and prints the 受理通知书; both departments claim and approve; 李娜
sees the case completed and rates it; the clerk hands the result over (出件); the supervisor
sees it on the 电子监察 dashboard. Each person has their own browser context, in Chinese.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from govservice.catalog import services as catalog
from govservice.catalog.models import ServiceItem
from govservice.core.extensions import db

from .conftest import platform_app
from .test_journey import PHONE, assert_fits_phone, field, flash, sign_in, take_ticket

ITEM_CODE = "e2e-joint-xcyd"
ITEM_NAME = "开办小餐饮店（联合审批）"
APPLICANT = {"name": "李娜", "id_number": "440106199507200025", "phone": "13800000002"}
NOT_IN_REGISTRY = "110105199001011232"
FORM = {
    "个体工商户名称": "北京市朝阳区李娜小吃店",
    "经营场所": "北京市朝阳区示例路12号",
    "经营范围": "小餐饮；预包装食品销售",
    "资金数额（万元）": "8",
}


@pytest.fixture(scope="module")
def joint_item(base_url, instance_dir, database_url, idp_url):
    """A joint item reviewed by 市场监督管理局 and 卫生健康委员会 (the demo has officers of both),
    built from the 个体工商户 item in the live server's database."""
    app = platform_app(instance_dir, database_url, idp_url, base_url)
    with app.app_context():
        if catalog.current_item(ITEM_CODE) is None:
            base = catalog.current_item("scjgj-gtgsh-sldj")
            definition = dict(
                base.definition,
                code=ITEM_CODE,
                name=ITEM_NAME,
                workflow=[{"mode": "joint", "departments": ["scjgj", "wsjkw"]}],
            )
            definition.pop("result", None)
            db.session.add(
                ServiceItem(
                    code=ITEM_CODE,
                    version=1,
                    is_current=True,
                    name=ITEM_NAME,
                    kind=base.kind,
                    department=base.department,
                    result_type=None,
                    time_limit_days=5,
                    level_of_assurance=1,
                    audience="person",
                    definition=definition,
                    digest=ITEM_CODE,
                )
            )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ITEM_CODE


def pdf_text(page: Page, link) -> str:
    """Fetch a notice with the page's session, check it is a PDF, return its text."""
    response = page.context.request.get(link.get_attribute("href"))
    assert response.ok and response.body().startswith(b"%PDF-")
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace("\n", "")


def decide_as(new_context, name: str, number: str, opinion: str, shot=None) -> Page:
    officer = new_context().new_page()
    sign_in(officer, name)
    officer.get_by_role("link", name="部门审查").click()
    expect(officer.get_by_role("heading", name="部门审查 · 待办")).to_be_visible()
    officer.get_by_role("link", name=number).click()
    expect(officer.get_by_role("main")).to_contain_text("并联")
    officer.get_by_role("button", name="认领审查").click()
    expect(flash(officer)).to_contain_text("已认领")
    officer.get_by_label("审查意见").fill(opinion)
    officer.get_by_label("准予许可").check()
    if shot:
        shot(officer)
    officer.get_by_role("button", name="提交结论").click()
    expect(flash(officer)).to_contain_text("审查结论已提交。")
    expect(officer.get_by_role("link", name=number)).to_have_count(0)
    return officer


def test_window_intake_with_a_supplement_round_and_a_joint_approval(new_context, joint_item, premises_pdf, screenshot):
    # 1. a number from the hall's machine ------------------------------------------------------
    ticket = take_ticket(new_context)

    # 2. the clerk calls it and identifies the applicant against the population registry --------
    clerk = new_context().new_page()
    sign_in(clerk, "赵敏")
    clerk.get_by_role("link", name="综合窗口").click()
    expect(clerk.get_by_role("main")).to_contain_text(f"下一位：{ticket}")
    clerk.get_by_role("button", name="叫下一位").click()
    expect(flash(clerk)).to_contain_text(f"请 {ticket} 号到窗口办理。")
    clerk.get_by_label("申请人身份证号码").fill(NOT_IN_REGISTRY)
    clerk.get_by_role("button", name="核验身份").click()
    expect(clerk.get_by_role("main")).to_contain_text("人口基础信息库中没有该身份证号码")
    expect(clerk.get_by_label("申请人身份证号码")).to_have_attribute("aria-invalid", "true")
    clerk.get_by_label("申请人身份证号码").fill(APPLICANT["id_number"])
    clerk.get_by_role("button", name="核验身份").click()
    expect(flash(clerk)).to_contain_text(f"已核验申请人身份：{APPLICANT['name']}。")

    # 3. the joint item, filed for her with the lease missing --------------------------------------
    clerk.get_by_label("事项").select_option(joint_item)
    clerk.get_by_role("button", name="收件", exact=True).click()
    expect(clerk.get_by_role("heading", name=f"窗口收件：{ITEM_NAME}")).to_be_visible()
    expect(field(clerk, "经营者姓名")).to_have_value(APPLICANT["name"])
    expect(field(clerk, "经营者姓名")).not_to_be_editable()
    for label, value in FORM.items():
        field(clerk, label).fill(value)
    field(clerk, "组成形式").select_option("个人经营")
    field(clerk, "联系电话").fill(APPLICANT["phone"])
    clerk.get_by_role("button", name="收件并预审").click()
    expect(flash(clerk)).to_contain_text("已收件，办件编号")
    expect(clerk).to_have_url(re.compile(r"/window/cases/\d{20}$"))
    number = clerk.url.rsplit("/", 1)[-1]
    checklist = clerk.get_by_role("table", name="材料核对")
    expect(checklist.get_by_role("row", name=re.compile("经营场所使用证明"))).to_contain_text("缺少")
    screenshot(clerk, "51-window-prereview-checklist")

    # 4. 一次性告知: every missing material with its reason and a deadline, printed -----------------
    clerk.get_by_label("经营场所使用证明的补正原因").fill("未提交经营场所使用证明（租赁合同复印件）")
    clerk.get_by_role("button", name="出具一次性告知书").click()
    expect(flash(clerk)).to_contain_text("已出具一次性告知书")
    text = pdf_text(clerk, clerk.get_by_role("link", name="补正材料一次性告知书（PDF）"))
    assert f"{number}-BZ1" in text and "未提交经营场所使用证明（租赁合同复印件）" in text and "前补正" in text
    clerk.get_by_role("link", name=ticket).click()  # the applicant leaves: the number is done
    expect(clerk.get_by_role("main")).to_contain_text(number)
    clerk.get_by_role("button", name="办结此号").click()
    expect(flash(clerk)).to_contain_text(f"{ticket} 号已办结。")

    # 5. the applicant answers it online -------------------------------------------------------
    citizen = new_context().new_page()
    sign_in(citizen, APPLICANT["name"])
    citizen.get_by_role("link", name="我的办件").click()
    citizen.get_by_role("link", name=number).click()
    notice = citizen.get_by_role("region", name="一次性告知补正")
    expect(notice).to_contain_text("未提交经营场所使用证明（租赁合同复印件）")
    screenshot(citizen, "52-window-citizen-supplement-request")
    field(citizen, "经营场所使用证明").set_input_files(premises_pdf)
    citizen.get_by_role("button", name="提交补正").click()
    expect(flash(citizen)).to_contain_text("补正材料已提交，等待综合窗口核验。")
    expect(citizen.get_by_role("main")).to_contain_text("待受理")

    # 6. the clerk checks the answer and accepts; the 受理通知书 is printed -------------------------
    clerk.get_by_role("link", name="综合窗口").click()
    clerk.get_by_role("link", name=number).click()
    expect(checklist.get_by_role("row", name=re.compile("经营场所使用证明"))).to_contain_text("已收取")
    clerk.get_by_role("button", name="受理", exact=True).click()
    expect(flash(clerk)).to_contain_text(f"已受理办件 {number}，办理时限至 ")
    text = pdf_text(clerk, clerk.get_by_role("link", name="受理通知书（PDF）"))
    assert f"{number}-SL" in text and "并联审查" in text and "5个工作日" in text
    screenshot(clerk, "53-window-accepted-notice")

    # 7. both departments decide: the first leaves it under review, the second approves it --------
    decide_as(new_context, "刘洋", number, "名称、经营场所符合登记要求。")
    citizen.reload()
    expect(citizen.get_by_role("main")).to_contain_text("审查中")
    expect(citizen.get_by_role("main")).to_contain_text("卫生健康委员会")
    decide_as(
        new_context,
        "陈静",
        number,
        "卫生条件符合要求。",
        shot=lambda page: screenshot(page, "54-window-officer-joint-decision"),
    )
    citizen.reload()
    main = citizen.get_by_role("main")
    expect(main).to_contain_text("已办结")
    expect(main).to_contain_text("市场监督管理局：名称、经营场所符合登记要求。；卫生健康委员会：卫生条件符合要求。")

    # 8. the applicant rates the service ---------------------------------------------------------
    rating = citizen.get_by_role("region", name="服务评价")
    rating.get_by_label("5 分 · 非常满意").check()
    rating.get_by_label("评价内容").fill("一次告知，跑一次就办成了")
    rating.get_by_role("button", name="提交评价").click()
    expect(flash(citizen)).to_contain_text("感谢您的评价。")
    screenshot(citizen, "55-window-citizen-completed-rated")
    phone = new_context(storage_state=citizen.context.storage_state(), **PHONE).new_page()
    phone.goto(citizen.url)
    expect(phone.get_by_role("main")).to_contain_text("您的评价：5 分")
    assert_fits_phone(phone, "the completed window case")
    phone.context.close()

    # 9. the result is handed over at the window (出件) --------------------------------------------
    clerk.get_by_role("link", name="综合窗口").click()
    clerk.get_by_role("link", name=number).click()
    clerk.get_by_role("button", name="出件：办理结果已交付申请人").click()
    expect(flash(clerk)).to_contain_text("已出件")
    expect(clerk.get_by_role("main")).to_contain_text("出件")

    # 10. supervision sees it --------------------------------------------------------------------
    supervisor = new_context().new_page()
    sign_in(supervisor, "孙强")
    supervisor.get_by_role("link", name="电子监察").click()
    expect(supervisor.get_by_role("heading", name="电子监察", level=1)).to_be_visible()
    expect(supervisor.get_by_role("img", name="按渠道")).to_be_visible()
    expect(supervisor.get_by_role("table", name="按渠道")).to_contain_text("窗口受理")
    expect(supervisor.get_by_role("table", name="按事项")).to_contain_text(ITEM_NAME)
    screenshot(supervisor, "56-window-supervision-dashboard")
    with supervisor.expect_download() as download:
        supervisor.get_by_role("link", name="导出办件明细（CSV）").click()
    assert number in download.value.path().read_text(encoding="utf-8-sig")
