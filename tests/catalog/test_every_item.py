"""Every item in the catalogue applies end to end: online application with pre-fill, window
acceptance, review by each department of its workflow, the result, and a notice at each step."""

import uuid
from datetime import date

import pytest
from flask import current_app

from govservice.cases import applying
from govservice.cases import services as cases
from govservice.cases.uploads import Upload
from govservice.catalog import services as catalog
from govservice.catalog.definitions import NOT_ITEMS
from govservice.certificates import services as certificate_services
from govservice.certificates.models import Certificate
from govservice.core import pii
from govservice.core.extensions import db
from govservice.identity import enterprises
from govservice.identity.models import Person, StaffAssignment
from govservice.notify.models import Notice
from govservice.registry import devdata
from govservice.review import services as review

from .. import factories
from ..factories import pdf_upload, person

ITEMS = [p.stem for p in catalog.ITEMS_DIR.glob("*.toml") if p.name not in NOT_ITEMS]
SPECIAL = {
    "licence_number": "JY11101050012345",
    "bank_account": "6222020200112345678",
    "birth_certificate_number": "Q110123456",
    "credit_code": "92110105MA0000001Y",
    "contractor_credit_code": "91110105MA01ABCD26",
}
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\0" * 200


def _answer(spec: dict):
    if spec["name"] in SPECIAL:
        return SPECIAL[spec["name"]]
    kind = spec["type"]
    if kind == "choice":
        return spec["choices"][0]
    if kind in ("decimal", "integer"):
        return spec.get("min", 1)
    if kind == "date":
        return date(2026, 11, 1).isoformat()
    if kind == "id_number":
        return "110105198802150035"
    if kind == "credit_code":
        return "91110105MA01EFGH30"
    if kind == "phone":
        return "13800000001"
    return f"{spec['label']}（示例）"[: spec.get("max_length", 50)]


def _officer(department_code: str) -> Person:
    """An officer of the department (a generated person: the demo has officers for two only)."""
    department = catalog.department(department_code)
    for assignment in db.session.execute(
        db.select(StaffAssignment).where(
            StaffAssignment.role == "officer", StaffAssignment.department_id == department.id
        )
    ).scalars():
        return assignment.person
    record = devdata.generate_people(1, seed=hash(department_code) % 10_000)[0]
    officer = Person(
        id_number_hash=pii.lookup_hash(record.id_number),
        id_number_enc=pii.encrypt(record.id_number),
        name_enc=pii.encrypt(record.name),
        level_of_assurance=2,
    )
    db.session.add(officer)
    db.session.add(StaffAssignment(person=officer, role="officer", department=department))
    db.session.commit()
    return officer


@pytest.mark.parametrize("code", sorted(ITEMS))
def test_the_item_applies_end_to_end(ctx, clock, code):
    item = catalog.current_item(code)
    enterprise = None
    if item.audience == "enterprise":
        from govservice.identity.services import find_person

        applicant = find_person("110108197802151518") or Person(
            id_number_hash=pii.lookup_hash("110108197802151518"),
            id_number_enc=pii.encrypt("110108197802151518"),
            name_enc=pii.encrypt("王五"),
            level_of_assurance=2,
        )
        db.session.add(applicant)
        db.session.flush()
        enterprises.refresh_representation(applicant, purpose="测试")
        db.session.commit()
        enterprise = enterprises.by_credit_code(devdata.DEMO_ENTERPRISE_USCC)
    else:
        applicant = person("李娜" if code == "gaj-jzz-sl" else "张三")
    answers = {spec["name"]: _answer(spec) for spec in item.fields}
    if item.definition.get("licence"):  # 变更、注销: the licence acted on is the applicant's
        spec = item.definition["licence"]
        number_field = current_app.extensions["certificate_types"][spec["type"]].number_field
        data = dict(factories.DATA[spec["type"]], **{number_field: answers[spec["field"]]})
        certificate_services.issue(spec["type"], applicant, data, enterprise=enterprise)
    files = []
    for material in item.materials:
        types = material.get("types", ["pdf", "jpg", "png"])
        data, name = (pdf_upload()[0].getvalue(), "m.pdf") if "pdf" in types else (JPG, "m.jpg")
        files.append(Upload(material["code"], name, data))
    case, created = applying.submit(
        applicant, item, answers, files, {}, uuid.uuid4().hex, enterprise=enterprise, level=2
    )
    assert created and case.state == "submitted" and case.item.version == item.version
    if enterprise is not None:
        assert case.enterprise_id == enterprise.id
        assert (
            case.form_data[next(f["name"] for f in item.fields if f.get("prefill") == "legal_person.name")]
            == "北京朝阳示例餐饮有限公司"
        )

    case = cases.accept(case.id, person("赵敏"), case.version)
    assert case.state == "accepted" and case.deadline is not None
    for _round in range(5):
        db.session.refresh(case)
        if case.state not in ("accepted", "in_review"):
            break
        stage = [s for s in case.steps if s.stage == case.current_stage]
        for step in stage:
            officer = _officer(step.department.code)
            db.session.refresh(case)
            if step.status == "pending":
                case = review.claim(case.id, officer, case.version, step_id=step.id)
            db.session.refresh(case)
            case = review.decide(
                case.id, officer, case.version, approve=True, opinion="符合法定条件，同意。", step_id=step.id
            )
    db.session.refresh(case)
    assert case.state == "completed", [(e.action, e.to_state, e.note) for e in case.events]
    reviewed = {s.department.code for s in case.steps}
    assert reviewed == {c for step in item.definition["workflow"] for c in step["departments"]}
    certificates = db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalars().all()
    if item.result_type:
        assert [c.type_code for c in certificates] == [item.result_type]
    else:  # a letter: its signed 决定书 in the wallet (certificates/services.py, licenses/jds.toml)
        assert [(c.type_code, c.data["document_title"]) for c in certificates] == [
            ("jds", item.definition["result_name"])
        ]
    notices = db.session.execute(db.select(Notice.kind).where(Notice.case_id == case.id)).scalars().all()
    assert sorted(notices) == sorted(f"case.{e.action}" for e in case.events)
