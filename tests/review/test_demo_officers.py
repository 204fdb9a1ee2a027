"""The demo has an officer for every department whose items it lists, so every demo item can be
walked to its document with the demo logins that `make run` prints: 马丽 for 人力资源和社会保障局
and 高峰 for 住房和城乡建设委员会 walk the joint 建筑工程施工许可 from their inboxes to its permit."""

from __future__ import annotations

import re

from govservice.cases import workflow
from govservice.cases.models import Case
from govservice.catalog import services as catalog
from govservice.certificates.models import Certificate
from govservice.core.extensions import db
from govservice.identity.devidp.identities import IDENTITIES
from govservice.identity.models import StaffAssignment

from ..certificates.test_case_documents import accepted_permit_application


def test_every_department_of_a_demo_item_has_a_demo_officer(ctx):
    officers = {
        a.department.code
        for a in db.session.execute(db.select(StaffAssignment).where(StaffAssignment.role == "officer")).scalars()
    }
    for item in catalog.list_items():
        needed = {
            code for stage in workflow.stages(item.definition, item.department.code) for code in stage.departments
        }
        assert needed <= officers, f"{item.code}: no demo officer for {sorted(needed - officers)}"
    described = {i["name"]: i["description"] for i in IDENTITIES}
    assert described["马丽"] == "审批人员（人力资源和社会保障局）"
    assert described["高峰"] == "审批人员（住房和城乡建设委员会）"


def test_make_run_prints_the_new_officers_among_the_demo_logins(app, monkeypatch):
    import werkzeug.serving

    from govservice.identity import devidp

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: None)  # print, do not serve
    monkeypatch.setattr(devidp, "serve_in_thread", lambda *a, **k: None)
    printed = app.test_cli_runner().invoke(args=["govservice", "serve"], catch_exceptions=False).output
    assert re.search(r"马丽 +审批人员（人力资源和社会保障局）", printed), printed
    assert re.search(r"高峰 +审批人员（住房和城乡建设委员会）", printed), printed


def test_the_demo_officers_walk_the_joint_construction_permit_to_its_certificate(app, ctx, clock, login_as):
    case, _, _ = accepted_permit_application()
    number = case.number

    for name, department, opinion in (
        ("马丽", "人力资源和社会保障局", "农民工工资专用账户及保证金已落实"),
        ("高峰", "住房和城乡建设委员会", "符合施工许可条件"),
    ):
        client = app.test_client()
        login_as(client, name)
        inbox = client.get("/review/").get_data(as_text=True)
        assert number in inbox, f"{name} does not see the case"
        page = client.get(f"/review/cases/{number}").get_data(as_text=True)
        assert department in page
        db.session.expire_all()
        current = db.session.get(Case, case.id)
        [step] = [s for s in current.steps if s.department.name == department]
        answer = client.post(f"/review/cases/{number}/claim", data={"version": current.version, "step": step.id})
        assert answer.status_code == 302
        db.session.expire_all()
        current = db.session.get(Case, case.id)
        answer = client.post(
            f"/review/cases/{number}/decide",
            data={"version": current.version, "step": step.id, "decision": "approve", "opinion": opinion},
        )
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/review/"), answer.data[:500]

    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "completed"
    permit = db.session.execute(db.select(Certificate).where(Certificate.case_id == case.id)).scalar_one()
    assert permit.type_code == "jzgcsgxkz" and permit.issuer.code == "zjw"
