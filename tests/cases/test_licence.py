"""原许可证编号: the items that change or cancel a licence held (`[licence]` in the item file) fill
the form from a licence picked in 我的证照, and check a number typed by hand: its format, that
it exists, and that it is the applicant's (or their enterprise's)."""

from __future__ import annotations

from govservice.cases.models import Case
from govservice.certificates import services as certificate_services
from govservice.core.extensions import db
from govservice.identity.models import Enterprise

from .. import factories
from ..factories import pdf_upload, person
from .test_views import RESTAURANT, ZXDJ, _act_for, _apply, _case, _count

CHANGE = {
    "legal_representative": "王五",
    "licence_number": "JY21101050098765",
    "change_items": "经营项目",
    "residence": "北京市朝阳区示例路20号1层101",
    "premises": "北京市朝阳区示例路20号1层101",
    "business_format": "餐饮服务经营者",
    "business_items": "热食类食品制售；冷食类食品制售",
    "reason": "增加冷食类食品制售",
    "phone": "13800000003",
}


def _restaurant_licence(app, **changes):
    with app.app_context():
        enterprise = db.session.execute(db.select(Enterprise).where(Enterprise.uscc == RESTAURANT)).scalar_one()
        licence = certificate_services.issue(
            "spjyxkz",
            enterprise.legal_representative,
            dict(factories.DATA["spjyxkz"], credit_code=RESTAURANT, **changes),
            enterprise=enterprise,
        )
        return licence.id, licence.identifier


def _change(client, **overrides):
    return _apply(
        client,
        "scjgj-spjyxk-bg",
        dict(CHANGE, **overrides),
        material_change_proof=pdf_upload(),
        material_licence=pdf_upload("licence.pdf"),
    )


def test_the_licence_picked_from_the_wallet_fills_the_form(app, client, login_as, clock):
    login_as(client, "王五")
    _act_for(app, client)
    _, identifier = _restaurant_licence(app, business_items="预包装食品销售", premises="北京市朝阳区示例路22号")
    page = client.get("/apply/scjgj-spjyxk-bg").get_data(as_text=True)
    assert "从“我的证照”中选择食品经营许可证" in page
    assert f'<option value="{identifier}"' in page and "JY21101050098765" in page
    assert 'value="JY21101050098765"' not in page  # nothing filled until a licence is picked
    filled = client.get(f"/apply/scjgj-spjyxk-bg?licence={identifier}").get_data(as_text=True)
    assert "已按食品经营许可证 JY21101050098765 填写申请表，请核对。" in filled
    assert 'value="JY21101050098765"' in filled and 'value="北京市朝阳区示例路22号"' in filled
    assert "预包装食品销售</textarea>" in filled and "来源：我的证照" in filled
    assert '<option selected value="餐饮服务经营者">' in filled
    # the registry's read-only values stay the registry's (the licence never overrides them)
    assert 'value="北京朝阳示例餐饮有限公司"' in filled and "来源：法人基础信息库" in filled
    # a licence that is not the applicant's is not filled from
    other = client.get("/apply/scjgj-spjyxk-bg?licence=1.2.156.3005.2.NOPE").get_data(as_text=True)
    assert "所选证照不可用" in other and 'value="JY21101050098765"' not in other
    response = _change(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.session.get(Case, _case(app).id)
        assert case.form_data["licence_number"] == "JY21101050098765"
        assert case.field_sources["licence_number"] == "certificate"


def test_a_licence_number_typed_by_hand_is_checked(app, client, login_as, clock):
    from govservice.certificates import lifecycle

    login_as(client, "王五")
    _act_for(app, client)
    licence_id, _ = _restaurant_licence(app)
    bad = _change(client, licence_number="JY123").get_data(as_text=True)
    assert "许可证编号为 JY 加14位数字。" in bad and 'value="JY123"' in bad
    unknown = _change(client, licence_number="JY21101050000000")
    assert unknown.status_code == 422
    page = unknown.get_data(as_text=True)
    assert "未找到编号为 JY21101050000000 的食品经营许可证。请核对编号，或从“我的证照”中选择要办理的证照。" in page
    assert 'id="licence_number-error"' in page and 'value="JY21101050000000"' in page  # beside the field, kept
    assert "热食类食品制售；冷食类食品制售</textarea>" in page
    with app.app_context():  # a licence of the same kind held by someone else
        certificate_services.issue(
            "spjyxkz",
            person("张三"),
            dict(factories.DATA["spjyxkz"], licence_number="JY21101050011111"),
        )
    theirs = _change(client, licence_number="JY21101050011111").get_data(as_text=True)
    assert "编号为 JY21101050011111 的食品经营许可证不在“北京朝阳示例餐饮有限公司”名下，不能据此申请。" in theirs
    assert _count(app) == 0
    with app.app_context():
        lifecycle.revoke(licence_id, person("刘洋"), "以欺骗手段取得许可")
    revoked = _change(client).get_data(as_text=True)
    assert "编号为 JY21101050098765 的食品经营许可证已吊销，不能据此申请。" in revoked and _count(app) == 0
    _restaurant_licence(app)  # a valid one again: the same number is accepted
    assert _change(client).status_code == 302 and _count(app) == 1


def test_the_business_licence_to_cancel_fills_the_deregistration_and_is_checked(app, client, login_as, clock):
    with app.app_context():
        identifier = factories.issue("yyzz", credit_code=ZXDJ["credit_code"]).identifier  # 张三's
    login_as(client, "张三")
    filled = client.get(f"/apply/scjgj-gtgsh-zxdj?licence={identifier}").get_data(as_text=True)
    assert f'value="{ZXDJ["credit_code"]}"' in filled and 'value="北京市朝阳区张三便利店"' in filled
    lina = app.test_client()
    login_as(lina, "李娜")
    page = lina.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    assert "您（或所代表的企业）名下没有有效的营业执照电子证照" in page
    refused = _apply(lina, "scjgj-gtgsh-zxdj", dict(ZXDJ, phone="13800000002"), material_licence=pdf_upload())
    assert f"编号为 {ZXDJ['credit_code']} 的营业执照不在您本人名下" in refused.get_data(as_text=True)
    assert _count(app) == 0


def test_the_form_reads_in_english_and_keeps_the_chinese_answers(app, client, login_as, clock, tmp_path):
    """English mode: labels, choices, materials and their notes in English; what is stored (and
    printed on certificates) stays the Chinese of the item file."""
    from ..catalog.test_views import _english

    with app.app_context():
        identifier = factories.issue("yyzz", credit_code=ZXDJ["credit_code"]).identifier
    login_as(client, "张三")
    _english(app, client, tmp_path)
    page = client.get("/apply/scjgj-gtgsh-zxdj").get_data(as_text=True)
    for text in (
        "Apply for Deregistration of an individual business",
        "Reason for deregistration",
        '<option value="决定停止经营">Decided to stop trading</option>',
        "Business licence (original and duplicate)",
        "If you hold an electronic business licence, select it instead of uploading.",
        "Original",
        "Choose the Business Licence from My Certificates",
    ):
        assert text in page, text
    assert "注销原因" not in page and "营业执照正本" not in page
    response = _apply(client, "scjgj-gtgsh-zxdj", dict(ZXDJ, cert_licence=identifier))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, _case(app).id).form_data["reason"] == "决定停止经营"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Decided to stop trading" in detail and "Settlement of debts and claims" in detail
