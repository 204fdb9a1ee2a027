"""Staff roles (工作人员角色): clerk, officer, supervisor, admin, bound to a department and/or a
service hall; kept by an admin (/admin/staff) or asserted by a provider's role claim.

Binding rules: an officer (审批人员) belongs to a department; a clerk (窗口工作人员) to a service
hall; a supervisor or an admin bound to no department covers them all. A platform admin (no
department) keeps every role; a department's admin keeps only the officers of that department.
Roles from a provider's claim are the provider's to change: each sign-in through it replaces
them, and an admin cannot revoke them here.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import services as audit
from ..core import clock
from ..core.extensions import db
from ..core.pagination import Key, keyset
from .models import ROLES, SOURCE_ADMIN, Department, Person, ServiceHall, StaffAssignment
from .people import checked_number_and_name, name_matches, person_for

log = logging.getLogger(__name__)

ROLE_LABELS = {
    "clerk": _l("窗口工作人员"),
    "officer": _l("审批人员"),
    "supervisor": _l("督办人员"),
    "admin": _l("系统管理员"),
}


class StaffError(Exception):
    """A refusal shown as it is (Chinese); nothing was changed."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def parse_role_spec(spec: str) -> tuple[str, str | None, str | None]:
    """ "officer:scjgj" -> ("officer", "scjgj", None); "clerk::cy-zwfwzx" -> ("clerk", None, "cy-zwfwzx")."""
    parts = str(spec).strip().split(":")
    if len(parts) > 3:
        raise ValueError(f"too many parts in {spec!r}")
    role, department, hall = (p.strip() or None for p in parts + [""] * (3 - len(parts)))
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return role, department, hall


def check_binding(role: str, department: Department | None, hall: ServiceHall | None):
    if role not in ROLES:
        raise StaffError(_l("请选择有效的角色。"))
    if role == "officer" and department is None:
        raise StaffError(_l("审批人员必须属于一个部门。"))
    if role == "clerk" and hall is None:
        raise StaffError(_l("窗口工作人员必须属于一个政务服务大厅。"))


def _department(code: str | None) -> Department | None:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one_or_none() if code else None


def _hall(code: str | None) -> ServiceHall | None:
    return (
        db.session.execute(select(ServiceHall).where(ServiceHall.code == code)).scalar_one_or_none() if code else None
    )


def may_manage(admin: Person | None, role: str, department_id: int | None) -> bool:
    """A platform admin manages every role; a department's admin only that department's officers.
    None is the operator at the command line (`flask govservice identity staff-add`)."""
    if admin is None:
        return True
    bindings = [a.department_id for a in admin.assignments if a.role == "admin"]
    if None in bindings:
        return True
    return role == "officer" and department_id is not None and department_id in bindings


def assignments() -> list[StaffAssignment]:
    return list(
        db.session.execute(
            select(StaffAssignment).order_by(
                StaffAssignment.role, StaffAssignment.department_id, StaffAssignment.hall_id, StaffAssignment.id
            )
        ).scalars()
    )


def assignments_page(token: str | None = None, *, size: int = 50):
    """系统管理 · 工作人员, a page at a time in the order of `assignments`, with the person,
    department and hall each row shows loaded in the same query."""
    from sqlalchemy.orm import joinedload

    query = select(StaffAssignment).options(
        joinedload(StaffAssignment.person), joinedload(StaffAssignment.department), joinedload(StaffAssignment.hall)
    )
    return keyset(
        query,
        [
            Key(StaffAssignment.role),
            Key(StaffAssignment.department_id, nullable=True),
            Key(StaffAssignment.hall_id, nullable=True),
            Key(StaffAssignment.id),
        ],
        token,
        size=size,
    )


def assign(
    admin: Person | None, id_number: str, name: str, role: str, department_code: str | None, hall_code: str | None
) -> StaffAssignment:
    """Give a person a staff role (by ID number; a person not yet signed in is recorded by
    number and name, and their first sign-in finds the role)."""
    number, name = checked_number_and_name(id_number, name, StaffError)
    department, hall = _department(department_code), _hall(hall_code)
    if department_code and department is None or hall_code and hall is None:
        raise StaffError(_l("所选部门或大厅不存在。"))
    check_binding(role, department, hall)
    if not may_manage(admin, role, department.id if department else None):
        raise StaffError(_l("您只能管理本部门的审批人员。"))
    if not name_matches(admin, number, name, purpose="核验工作人员身份"):
        raise StaffError(_l("姓名与身份证号码不一致，请核对。"))
    person = person_for(number, name)
    existing = [
        a
        for a in person.assignments
        if (a.role, a.department_id, a.hall_id)
        == (role, department.id if department else None, hall.id if hall else None)
    ]
    if existing:
        raise StaffError(_l("该人员已有此角色。"))
    assignment = StaffAssignment(
        person=person,
        role=role,
        department=department,
        hall=hall,
        source=SOURCE_ADMIN,
        granted_by=admin,
        granted_at=clock.now(),
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "identity.staff_assign",
        actor=admin,
        subject=f"person:{person.id}",
        detail={
            "role": role,
            "department": department_code,
            "hall": hall_code,
            **({"via": "command line"} if admin is None else {}),
        },
    )
    db.session.commit()
    return assignment


def revoke(admin: Person, assignment_id: int) -> tuple[str, str]:
    """Take a role away at once; returns (the person's masked name, the role)."""
    assignment = db.session.get(StaffAssignment, assignment_id)
    if assignment is None:
        raise StaffError(_l("该角色不存在或已被撤销。"))
    if assignment.from_claim:
        raise StaffError(_l("该角色来自身份提供方的角色声明，请在身份提供方处修改。"))
    if not may_manage(admin, assignment.role, assignment.department_id):
        raise StaffError(_l("您只能管理本部门的审批人员。"))
    if assignment.person_id == admin.id and assignment.role == "admin":
        raise StaffError(_l("不能撤销自己的管理员角色，请由另一位管理员操作。"))
    detail = {
        "role": assignment.role,
        "department": assignment.department.code if assignment.department else None,
        "hall": assignment.hall.code if assignment.hall else None,
    }
    person_id, name, role = assignment.person_id, assignment.person.masked_name, assignment.role
    db.session.delete(assignment)
    audit.record("identity.staff_revoke", actor=admin, subject=f"person:{person_id}", detail=detail)
    db.session.commit()
    return name, role


def sync_claimed_roles(person: Person, provider_name: str, claim) -> dict:
    """Make the person's roles from this provider exactly those its role claim lists.

    Unknown roles, departments or halls, and bindings that break the rules, are left out and
    reported; the caller audits and commits.
    """
    source = f"claim:{provider_name}"
    specs = claim.split() if isinstance(claim, str) else list(claim or [])
    wanted, ignored = set(), []
    for spec in specs:
        try:
            role, department_code, hall_code = parse_role_spec(spec)
            department, hall = _department(department_code), _hall(hall_code)
            if department_code and department is None or hall_code and hall is None:
                raise ValueError("unknown department or hall")
            check_binding(role, department, hall)
        except (ValueError, StaffError) as exc:
            ignored.append(str(spec)[:64])
            log.warning("role claim %r from %s ignored: %s", spec, provider_name, exc)
            continue
        wanted.add((role, department.id if department else None, hall.id if hall else None))
    held = {(a.role, a.department_id, a.hall_id): a for a in person.assignments if a.source == source}
    for binding, assignment in held.items():
        if binding not in wanted:
            person.assignments.remove(assignment)
    admin_held = {(a.role, a.department_id, a.hall_id) for a in person.assignments if a.source != source}
    for role, department_id, hall_id in wanted - set(held) - admin_held:
        person.assignments.append(
            StaffAssignment(
                role=role, department_id=department_id, hall_id=hall_id, source=source, granted_at=clock.now()
            )
        )
    return {"roles": sorted(f"{r}:{d or ''}:{h or ''}" for r, d, h in wanted), "ignored": ignored}
