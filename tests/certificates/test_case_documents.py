"""Every decision leaves a document: the joint 建筑工程施工许可 (住房和城乡建设委员会 with
人力资源和社会保障局) walked from the business's application to both approvals issues its
建筑工程施工许可证; an item whose result is a letter issues its signed 决定书 to the wallet."""

from __future__ import annotations

import uuid

from govservice.cases import services as cases
from govservice.catalog import services as catalog
from govservice.certificates import services
from govservice.certificates.models import Certificate
from govservice.core.extensions import db
from govservice.identity.models import Enterprise
from govservice.review import services as review

from ..factories import JOINT, accepted_case_of, pdf_file, person, staff, workflow_item

ANSWERS = {
    "builder": "北京示例科技有限公司",
    "credit_code": "91110105MA01ABCD2X",
    "legal_representative": "王五",
    "project_name": "示例科技研发楼",
    "project_address": "北京市朝阳区示例路30号",
    "planning_permit_number": "建字第110105202600123号",
    "contract_price": "3200",
    "floor_area": "12000",
    "contractor": "北京示例建设集团有限公司",
    "contractor_credit_code": "91110000MA01WXYZ5K",
    "planned_start": "2026-12-15",
    "planned_end": "2028-06-30",
    "phone": "13800000000",
}


def accepted_permit_application():
    """王五's business applies for the 建筑工程施工许可 and the window accepts: (case, enterprise, 王五)."""
    wang = person("王五")
    enterprise = db.session.execute(
        db.select(Enterprise).where(Enterprise.uscc == ANSWERS["credit_code"])
    ).scalar_one_or_none() or Enterprise(
        uscc=ANSWERS["credit_code"], name=ANSWERS["builder"], status="active", legal_representative=wang
    )
    db.session.add(enterprise)
    db.session.commit()
    item = catalog.current_item("zjw-jzgc-sgxk")
    files = [pdf_file(m["code"]) for m in item.materials if m.get("required")]
    case, _ = cases.submit_application(wang, item, dict(ANSWERS), files, uuid.uuid4().hex, enterprise_id=enterprise.id)
    return cases.accept(case.id, person("赵敏"), case.version), enterprise, wang


def test_the_joint_construction_permit_issues_its_certificate(ctx, clock):
    case, enterprise, wang = accepted_permit_application()
    housing, labour = staff("刘洋", "officer", "zjw"), staff("陈静", "officer", "rsj")
    page = case.version
    review.claim(case.id, housing, page)
    review.claim(case.id, labour, page)
    page = db.session.get(type(case), case.id).version
    review.decide(case.id, labour, page, approve=True, opinion="农民工工资专用账户及保证金已落实")
    review.decide(case.id, housing, page, approve=True, opinion="符合施工许可条件")

    permit = db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalar_one()
    assert permit.type_code == "jzgcsgxkz" and permit.holder_enterprise_id == enterprise.id
    assert permit.data["project_name"] == "示例科技研发楼" and permit.data["licence_number"].startswith("JZGCSGXKZ")
    assert permit.issuer.code == "zjw" and permit.expires_at is None
    db.session.refresh(case)
    assert case.state == "completed"
    assert permit in services.wallet(wang)


def test_an_item_without_a_licence_issues_its_decision_letter(ctx, clock):
    case = accepted_case_of(workflow_item(workflow=JOINT))
    page = case.version
    review.claim(case.id, person("刘洋"), page)
    review.claim(case.id, person("陈静"), page)
    page = db.session.get(type(case), case.id).version
    review.decide(case.id, person("陈静"), page, approve=True, opinion="同意")
    review.decide(case.id, person("刘洋"), page, approve=True, opinion="同意登记")

    letter = db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalar_one()
    assert letter.type_code == "jds" and letter.issuer.code == "scjgj"
    assert letter.data["document_title"] == "开办小餐饮店联合审批决定书"
    assert letter.data["case_number"] == case.number and "市场监督管理局：同意登记" in letter.data["opinion"]
    assert letter in services.wallet(person("张三"))
    assert any(e.note == f"决定书已签发：{letter.identifier}" for e in db.session.get(type(case), case.id).events)
    import io

    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(services.pdf_bytes(letter))).pages[0].extract_text()
    assert "开办小餐饮店联合审批决定书" in text.replace(" ", "").replace("\n", "")
