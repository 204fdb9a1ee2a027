"""失信联合惩戒 at the window, in a real browser, with the demo logins.

赵敏 identifies 冯刚 (a listed judgment defaulter of the development credit registry) at the
counter and files 个体工商户设立登记 for him: the pre-review page shows the listing with its
source and legal basis, 受理 is refused by the item's rule, and the 不予受理决定书 starts from the
listing's legal basis. Then an online case of 北京示例科技有限公司 (listed for a tax violation),
filed by 王五 for 建筑工程施工许可 (rule: warn): accepted only once the clerk confirms.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from govservice.cases import services as cases
from govservice.catalog import services as catalog
from govservice.core.extensions import db
from govservice.identity import enterprises
from govservice.identity.services import person_for
from govservice.registry import creditdata

from .conftest import platform_app
from .test_journey import field, flash, sign_in, take_ticket


def alert(page):
    return page.get_by_role("main").get_by_role("alert").first


@pytest.fixture(scope="module")
def company_case(base_url, instance_dir, database_url, idp_url, premises_pdf):
    """王五's online application for 北京示例科技有限公司, in the live server's database."""
    app = platform_app(instance_dir, database_url, idp_url, base_url)
    from govservice.cases.uploads import Upload

    with app.app_context():
        wangwu = person_for("110108197802151518", "王五")
        db.session.commit()
        enterprises.refresh_representation(wangwu, purpose="演示")
        db.session.commit()
        company = enterprises.by_credit_code(creditdata.LISTED_ENTERPRISE)
        item = catalog.current_item("zjw-jzgc-sgxk")
        files = [Upload(m["code"], "m.pdf", premises_pdf.read_bytes()) for m in item.materials]
        case, _ = cases.submit_application(
            wangwu, item, {"project_name": "示例科技园二期"}, files, uuid.uuid4().hex, enterprise_id=company.id
        )
        number = case.number
        db.session.remove()
        db.engine.dispose()
    return number


def test_the_window_sees_the_credit_check_and_applies_the_items_rule(new_context, company_case, screenshot):
    take_ticket(new_context)

    clerk = new_context().new_page()
    sign_in(clerk, "赵敏")
    clerk.get_by_role("link", name="综合窗口").click()
    clerk.get_by_role("button", name="叫下一位").click()
    clerk.get_by_label("申请人身份证号码").fill(creditdata.LISTED_PERSON)
    clerk.get_by_role("button", name="核验身份").click()
    expect(flash(clerk)).to_contain_text("已核验申请人身份：冯刚。")
    clerk.get_by_label("事项").select_option("scjgj-gtgsh-sldj")
    clerk.get_by_role("button", name="收件", exact=True).click()
    field(clerk, "个体工商户名称").fill("北京市朝阳区冯刚小吃店")
    field(clerk, "经营场所").fill("北京市朝阳区示例路30号")
    field(clerk, "经营范围").fill("小餐饮")
    field(clerk, "资金数额（万元）").fill("3")
    field(clerk, "组成形式").select_option("个人经营")
    field(clerk, "联系电话").fill("13800000009")
    clerk.get_by_role("button", name="收件并预审").click()
    expect(flash(clerk)).to_contain_text("已收件，办件编号")
    number = clerk.url.rsplit("/", 1)[-1]

    credit = clerk.get_by_role("table", name="信用核查")
    expect(credit).to_contain_text("列入失信名单")
    expect(credit).to_contain_text("失信被执行人名单（北京市朝阳区人民法院，（2025）京0105执12345号")
    expect(credit).to_contain_text("来源：全国信用信息共享平台（开发数据）")
    expect(credit).to_contain_text("法释〔2017〕7号")
    expect(credit).to_contain_text("不予受理")
    screenshot(clerk, "81-credit-listed-applicant")
    clerk.get_by_role("button", name="受理", exact=True).click()
    expect(alert(clerk)).to_contain_text("依据本事项的失信联合惩戒规则，不予受理")
    clerk.get_by_role("link", name="作出不予受理决定…").click()
    expect(clerk.get_by_label("法律依据")).to_have_value(
        re.compile("最高人民法院关于公布失信被执行人名单信息的若干规定")
    )
    clerk.get_by_label("不予受理的理由").fill("申请人被列入失信被执行人名单，限制担任个体工商户经营者。")
    clerk.get_by_role("button", name="不予受理并出具决定书").click()
    expect(flash(clerk)).to_contain_text("已作出不予受理决定")

    # the listed company's online case: warned, accepted once the clerk confirms
    clerk.goto(f"/window/cases/{company_case}")
    credit = clerk.get_by_role("table", name="信用核查")
    expect(credit).to_contain_text("北京示例科技有限公司")
    expect(credit).to_contain_text("重大税收违法失信主体名单")
    expect(credit).to_contain_text("提醒窗口确认后受理")
    clerk.get_by_role("button", name="受理", exact=True).click()
    expect(alert(clerk)).to_contain_text("请告知申请人并勾选“已核对信用核查结果”后再受理")
    clerk.get_by_label("已核对信用核查结果").check()
    clerk.get_by_role("button", name="受理", exact=True).click()
    expect(flash(clerk)).to_contain_text(f"已受理办件 {company_case}")
    clerk.goto(f"/window/cases/{company_case}")
    expect(clerk.get_by_role("table", name="信用核查")).to_contain_text("窗口已确认")
    assert number != company_case
