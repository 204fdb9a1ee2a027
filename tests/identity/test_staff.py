"""Staff roles kept by an administrator: the mapping page, its rules, and its effect at once."""

from __future__ import annotations

import pytest

from govservice.core.extensions import db
from govservice.identity import services, staff
from govservice.identity.models import Person, StaffAssignment

from .helpers import audit_entries, count, page

ZHANGSAN = "110105198802150035"


def _assign(client, **data):
    form = {"id_number": ZHANGSAN, "name": "张三", "role": "officer", "department": "scjgj", "hall": ""} | data
    return client.post("/admin/staff/", data=form)


def test_an_admin_gives_a_role_and_it_applies_at_once(app, login):
    admin, person = app.test_client(), app.test_client()
    login(admin, "郑华")
    login(person, "张三")
    assert person.get("/review/").status_code == 403
    listing = page(admin.get("/admin/staff/"))
    assert "刘*" in listing and "审批人员" in listing and "市场监督管理局" in listing
    done = admin.post(
        "/admin/staff/",
        data={"id_number": ZHANGSAN, "name": "张三", "role": "officer", "department": "scjgj", "hall": ""},
        follow_redirects=True,
    )
    assert "已为 张* 开通审批人员角色。" in page(done)
    assert person.get("/review/").status_code == 200  # the session already open
    assert audit_entries(app, "identity.staff_assign")[-1][2] == {
        "role": "officer",
        "department": "scjgj",
        "hall": None,
    }


def test_an_admin_takes_a_role_away_and_it_applies_at_once(app, login):
    admin, officer = app.test_client(), app.test_client()
    login(admin, "郑华")
    login(officer, "刘洋")
    assert officer.get("/review/").status_code == 200
    with app.app_context():
        assignment_id = db.session.execute(
            db.select(StaffAssignment.id).where(
                StaffAssignment.person_id == services.find_person("310115199204045563").id
            )
        ).scalar_one()
    done = admin.post(f"/admin/staff/{assignment_id}/revoke", follow_redirects=True)
    assert "已撤销 刘* 的审批人员角色，立即生效。" in page(done)
    assert officer.get("/review/").status_code == 403
    assert len(audit_entries(app, "identity.staff_revoke")) == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"id_number": "110105198802150036"}, "校验码不正确"),
        ({"name": "李四"}, "姓名与身份证号码不一致"),
        ({"department": ""}, "审批人员必须属于一个部门"),
        ({"role": "clerk", "department": "", "hall": ""}, "窗口工作人员必须属于一个政务服务大厅"),
        ({"role": "janitor"}, "请选择有效的角色。"),
        ({"id_number": "310115199204045563", "name": "刘洋"}, "该人员已有此角色"),
        ({"department": "nope"}, "所选部门或大厅不存在。"),
    ],
)
def test_each_bad_assignment_is_explained_and_nothing_changes(app, client, login, change, message):
    login(client, "郑华")
    assignments, people = count(app, StaffAssignment), count(app, Person)
    response = _assign(client, **change)
    assert response.status_code == 422 and message in page(response)
    assert count(app, StaffAssignment) == assignments and count(app, Person) == people


def test_a_department_admin_keeps_only_that_departments_officers(app, client, login):
    with app.app_context():
        admin = services.find_person("310115199204045563")  # 刘洋, officer of scjgj, made its admin
        scjgj = staff._department("scjgj")
        db.session.add(StaffAssignment(person=admin, role="admin", department=scjgj))
        db.session.commit()
    login(client, "刘洋")
    assert "已为 张* 开通审批人员角色。" in page(_assign(client) and client.get("/admin/staff/"))
    for change in ({"department": "wsjkw"}, {"role": "supervisor", "department": ""}):
        response = _assign(client, id_number="440106199507200025", name="李娜", **change)
        assert "您只能管理本部门的审批人员。" in page(response)


def test_an_admin_cannot_take_away_their_own_admin_role(app, client, login):
    login(client, "郑华")
    with app.app_context():
        own = db.session.execute(
            db.select(StaffAssignment.id).where(
                StaffAssignment.person_id == services.find_person("110101198202200064").id,
                StaffAssignment.role == "admin",
            )
        ).scalar_one()
    response = client.post(f"/admin/staff/{own}/revoke", follow_redirects=True)
    assert "不能撤销自己的管理员角色" in page(response)
    assert client.get("/admin/staff/").status_code == 200


def test_roles_from_a_providers_claim_are_not_revoked_here(ctx):
    person = services.find_person("110108199309090052")
    staff.sync_claimed_roles(person, "provincial", ["supervisor"])
    db.session.commit()
    claimed = next(a for a in person.assignments if a.source == "claim:provincial")
    admin = services.find_person("110101198202200064")
    with pytest.raises(staff.StaffError, match="来自身份提供方"):
        staff.revoke(admin, claimed.id)


def test_role_specs_are_parsed_strictly():
    assert staff.parse_role_spec("officer:scjgj") == ("officer", "scjgj", None)
    assert staff.parse_role_spec("clerk::cy-zwfwzx") == ("clerk", None, "cy-zwfwzx")
    assert staff.parse_role_spec(" supervisor ") == ("supervisor", None, None)
    for bad in ("janitor", "officer:a:b:c", ""):
        with pytest.raises(ValueError):
            staff.parse_role_spec(bad)


def test_the_first_administrator_is_made_at_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["govservice", "identity", "staff-add", "--id-number", ZHANGSAN, "--name", "张三", "--role", "admin"]
    )
    assert result.exit_code == 0 and "张*\tadmin" in result.output
    bad = runner.invoke(
        args=["govservice", "identity", "staff-add", "--id-number", "123", "--name", "张三", "--role", "admin"]
    )
    assert bad.exit_code != 0 and "18位" in bad.output
    listed = runner.invoke(args=["govservice", "identity", "staff-list"])
    assert "张*\t110105********0035\tadmin" in listed.output
    assert audit_entries(app, "identity.staff_assign")[-1][2]["via"] == "command line"


def test_ended_sessions_are_purged_at_the_command_line(app):
    result = app.test_cli_runner().invoke(args=["govservice", "identity", "purge-sessions"])
    assert result.exit_code == 0 and "ended sessions deleted" in result.output
