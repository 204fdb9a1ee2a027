"""一件事一次办: one form (shared fields once, materials once), one acceptance at the window, member
cases with their own departments and clocks, a member that waits for another's licence and
receives it as a material, and a member refused midway leaving the others intact."""

from __future__ import annotations

import re

from sqlalchemy import select

from govservice.bundles import services as bundles
from govservice.bundles.models import BundleMember
from govservice.cases import services as cases
from govservice.cases.uploads import Upload
from govservice.core.extensions import db
from govservice.notify.models import Notice
from govservice.notify.services import render
from govservice.review import services as review

from ..factories import pdf_upload, person

CODE = "kbgtcyd"
ANSWERS = {
    "operator_name": "张三",
    "operator_id_number": "110105198802150035",
    "business_name": "北京市朝阳区张三小吃店",
    "composition": "个人经营",
    "address": "北京市朝阳区示例路8号",
    "scope": "小餐饮",
    "capital": "5",
    "phone": "13800000001",
    "business_format": "餐饮服务经营者",
    "business_items": "热食类食品制售",
    "food_safety_officer": "张三",
    "floor_area": "40",
}


def _pdf(code):
    data, name = pdf_upload()
    return Upload(code, name, data.getvalue())


def _submit():
    files = [_pdf("premises"), _pdf("layout"), _pdf("rules")]
    return bundles.submit(person("张三"), CODE, dict(ANSWERS), files, "bundle-key-1")


def test_the_one_form_asks_shared_fields_once_and_leaves_out_what_a_licence_will_bring(ctx):
    spec = bundles.form_spec(bundles.definition(CODE))
    names = [f["name"] for f in spec.fields]
    assert names.count("phone") == 1  # both items ask it: once
    assert "premises" not in names and "address" in names  # 经营场所 answered by the business address
    assert "credit_code" not in names and "legal_representative" not in names  # from the 营业执照, later
    assert [m["code"] for m in spec.materials] == ["premises", "family", "layout", "rules"]  # no 营业执照 copy


def test_a_bundle_is_accepted_once_and_the_licence_follows_the_business_licence(ctx, clock):
    result = _submit()
    assert result.created and result.failures == []
    first, second = result.bundle.members
    assert first.status == "created" and first.case.state == "submitted"
    assert second.status == "waiting" and second.case_id is None
    assert _submit().created is False  # the same key: the same bundle
    accepted = bundles.accept(person("赵敏"), result.bundle.id, acknowledged=False)
    assert [c.item.code for c in accepted] == ["scjgj-gtgsh-sldj"] and accepted[0].deadline is not None
    case = review.claim(first.case_id, person("刘洋"), accepted[0].version)
    review.decide(case.id, person("刘洋"), case.version, approve=True, opinion="符合登记条件")
    db.session.expire_all()
    first, second = db.session.execute(select(BundleMember).order_by(BundleMember.position)).scalars().all()
    assert first.case.state == "completed"
    licence = second.case
    assert second.status == "created" and licence.item.code == "scjgj-spjyxk"
    assert licence.state == "accepted" and licence.deadline is not None  # accepted with the bundle
    held = licence.certificate_materials
    assert [(h.material_code, h.type_code) for h in held] == [("business_licence", "yyzz")]
    data = licence.form_data
    assert data["business_name"] == "北京市朝阳区张三小吃店" and re.fullmatch(r"[0-9A-Z]{18}", data["credit_code"])
    assert data["premises"] == "北京市朝阳区示例路8号" and data["phone"] == "13800000001"
    assert sorted(a.material_code for a in licence.attachments) == ["layout", "rules"]
    assert cases.missing_materials(licence) == []


def test_a_member_refused_midway_cancels_what_waits_for_it_and_tells_the_applicant(ctx, clock):
    result = _submit()
    bundles.accept(person("赵敏"), result.bundle.id, acknowledged=False)
    first = result.bundle.members[0]
    case = review.claim(first.case_id, person("刘洋"), first.case.version)
    review.decide(case.id, person("刘洋"), case.version, approve=False, opinion="名称不符合规定")
    db.session.expire_all()
    first, second = db.session.execute(select(BundleMember).order_by(BundleMember.position)).scalars().all()
    assert first.status == "failed" and first.case.state == "completed"  # its own result stays
    assert second.status == "cancelled" and "未获办理" in second.note
    [notice] = db.session.execute(select(Notice).where(Notice.kind == "bundle.member_failed")).scalars().all()
    title, body = render(notice)
    assert notice.recipient_id == person("张三").id and "开办个体餐饮店" in title and "其他事项不受影响" in body


def test_the_web_form_submits_and_shows_one_progress_view(app, client, login_as, clock):
    login_as(client, "张三")
    page = client.get(f"/bundles/{CODE}/apply")
    assert page.status_code == 200 and "一件事申请：开办个体餐饮店" in page.get_data(as_text=True)
    bad = client.post(f"/bundles/{CODE}/apply", data={"idempotency_key": "k1", "business_name": ""})
    assert bad.status_code == 422 and "未提交：请按提示修改标出的内容。" in bad.get_data(as_text=True)
    form = {k: v for k, v in ANSWERS.items() if k not in ("operator_name", "operator_id_number")}
    form.update(
        idempotency_key="k2", material_premises=pdf_upload(), material_layout=pdf_upload(), material_rules=pdf_upload()
    )
    done = client.post(f"/bundles/{CODE}/apply", data=form, content_type="multipart/form-data", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "“开办个体餐饮店”已提交，请到综合窗口一次受理。" in text
    assert "个体工商户设立登记" in text and "等待前置事项办结" in text and "待综合窗口一次受理" in text
    outsider = app.test_client()
    login_as(outsider, "李娜")
    bundle_id = re.search(r"/bundles/mine/(\d+)", done.request.path).group(1)
    assert outsider.get(f"/bundles/mine/{bundle_id}").status_code == 404
