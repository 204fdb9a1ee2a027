"""govservice.access decides who sees a bundle (一件事一次办) and a request (网上信访) too, with the
same relations as for a case: the applicant, the window, the department's officers and their
supervisors; administrators keep the platform and see none of them; staff reads are audited."""

from __future__ import annotations

from sqlalchemy import select

from govservice import access
from govservice.access import Relation
from govservice.audit.models import AuditEntry
from govservice.bundles import services as bundles
from govservice.core.extensions import db
from govservice.identity.demo import person
from govservice.petitions import services as petitions

from ..bundles.test_bundles import _submit as submit_bundle
from ..factories import staff


def _petition(requester="张三", clerk=None):
    return petitions.submit(
        person(requester),
        kind="complaint",
        title="餐馆油烟扰民",
        content="示例路12号餐馆油烟直排",
        department_code="scjgj",
        publish_consent=False,
        clerk=person(clerk) if clerk else None,
    )


def test_who_sees_and_handles_a_request(ctx):
    petition = _petition()
    expected = {
        "张三": Relation.APPLICANT,  # the requester
        "李娜": None,  # another citizen
        "刘洋": Relation.OFFICER,  # 市场监督管理局, where it is routed
        "陈静": None,  # an officer of 卫生健康委员会
        "孙强": Relation.SUPERVISOR,  # bound to no department: oversees all
        "郑华": None,  # the administrator
        "赵敏": None,  # a clerk who did not record it
    }
    assert {name: access.petition_relation(person(name), petition) for name in expected} == expected
    assert [n for n in expected if access.may_handle_petition(person(n), petition)] == ["刘洋"]
    bound = staff("李娜", "supervisor", "wsjkw")  # now a supervisor, of another department
    assert access.petition_relation(bound, petition) is None
    assert access.petition_relation(person("赵敏"), _petition("李娜", clerk="赵敏")) is Relation.WINDOW


def test_a_request_refused_is_not_found_and_a_staff_read_is_audited(app, client, login_as):
    with app.app_context():
        number = _petition().number
    login_as(client, "郑华")
    assert client.get(f"/petitions/{number}").status_code == 404
    officer = app.test_client()
    login_as(officer, "刘洋")
    assert officer.get(f"/petitions/{number}").status_code == 200
    requester = app.test_client()
    login_as(requester, "张三")
    assert requester.get(f"/petitions/{number}").status_code == 200
    with app.app_context():
        reads = db.session.execute(
            select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.subject == f"petition:{number}")
        ).all()
        assert [(a, d) for a, d in reads if a == "read.petition"] == [("read.petition", {"as": "officer"})]


def test_who_sees_and_accepts_a_bundle(ctx):
    bundle = submit_bundle().bundle
    expected = {
        "张三": Relation.APPLICANT,
        "李娜": None,
        "赵敏": Relation.WINDOW,  # the general window accepts every bundle
        "刘洋": Relation.OFFICER,  # 市场监督管理局: its member 个体工商户设立登记
        "黄磊": None,  # 公安分局: no member of this bundle
        "孙强": Relation.SUPERVISOR,
        "郑华": None,
    }
    assert {name: access.bundle_relation(person(name), bundle) for name in expected} == expected
    assert [n for n in expected if access.may_accept_bundle(person(n), bundle)] == ["赵敏"]
    try:
        bundles.accept(person("刘洋"), bundle.id, acknowledged=False)
    except bundles.BundleError as exc:
        assert "只有综合窗口工作人员可以受理" in str(exc.message)
    else:
        raise AssertionError("an officer accepted a bundle at the window")


def test_a_bundle_refused_is_not_found_and_an_officers_read_is_audited(app, login_as):
    with app.app_context():
        bundle_id = submit_bundle().bundle.id
    for name, status in (("郑华", 404), ("黄磊", 404), ("刘洋", 200), ("张三", 200)):
        client = app.test_client()
        login_as(client, name)
        assert client.get(f"/bundles/mine/{bundle_id}").status_code == status, name
    with app.app_context():
        reads = db.session.execute(
            select(AuditEntry.detail).where(
                AuditEntry.action == "read.bundle", AuditEntry.subject == f"bundle:{bundle_id}"
            )
        ).scalars()
        assert [d["as"] for d in reads] == ["officer"]
